"""Credit lines (额度) and revolving loans (循环贷): a limit granted once and drawn on many times.

:mod:`~core.credit_lines.application` applies for a line through the ordinary pipeline;
:mod:`~core.credit_lines.lifecycle` grants, freezes, adjusts, renews, expires and closes it, each change
audited; :mod:`~core.credit_lines.limits` counts and occupies the nested limits (policy, customer, line,
channel) one customer at a time; :mod:`~core.credit_lines.drawdown` turns a drawdown into a loan booked on the
line's product version; :mod:`~core.credit_lines.policy` holds the lender's dated caps.
"""
