"""The business day: which dates are business days (:mod:`core.businessday.calendar`) and which have been
closed by end-of-day (:mod:`core.businessday.closes`)."""
