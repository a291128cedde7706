"""The portfolio: the book as a whole, for the cockpit, the reports and any screen that shows it.

:mod:`core.portfolio.positions` rebuilds one loan's position at the end of any past day (days past due,
bucket, class, principal balance); :mod:`core.portfolio.measures` defines the portfolio measures
(outstanding, buckets, five-tier, overdue amounts, M1+, PAR30 and NPL ratios) and measures a whole book
in set-based SQL.
"""
