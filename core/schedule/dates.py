"""Due dates: month arithmetic with month-end clamping, fixed repayment days, weekly steps.

Month steps are taken from an anchor day, not from the previous due date, so a loan disbursed on
31 January falls due on 28 (or 29) February and again on 31 March. A fixed repayment day of 31 clamps the
same way.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.schedule.terms import DueDayRule, FirstPeriod, Frequency, LoanTerms

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(year: int, month: int) -> int:
    """Days in ``month`` of ``year``."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


def add_months(year: int, month: int, day: int, months: int) -> date:
    """The date ``months`` after (year, month), on ``day`` clamped to the month's last day."""
    y, m = divmod(month - 1 + months, 12)
    y += year
    m += 1
    return date(y, m, min(day, month_length(y, m)))


def _first_fixed_day(start: date, day: int, strictly_after: bool) -> date:
    candidate = date(start.year, start.month, min(day, month_length(start.year, start.month)))
    if candidate < start or (strictly_after and candidate == start):
        candidate = add_months(start.year, start.month, day, 1)
    return candidate


def due_dates(terms: LoanTerms) -> tuple[list[date], bool, date | None]:
    """The due dates of every period, and how the first period is shaped.

    Returns:
        ``(dates, first_is_regular, stub_end)``: ``first_is_regular`` is false when the first period must
        be priced by the day count; ``stub_end`` is the end of the extra days (the ``extra_days`` rule)
        whose interest is added to a regular first period, else ``None``.
    """
    start, n, freq = terms.start_date, terms.periods, terms.frequency
    if freq.days:
        if freq is Frequency.DAILY:
            return [start + timedelta(days=n)], False, None
        step = freq.days
        return [start + timedelta(days=step * k) for k in range(1, n + 1)], True, None
    step = freq.months
    if terms.due_day_rule is DueDayRule.SAME_DAY:
        y, mo, d = start.year, start.month, start.day
        return [add_months(y, mo, d, step * k) for k in range(1, n + 1)], True, None
    day = terms.repayment_day or start.day
    if terms.first_period is FirstPeriod.EXTRA_DAYS:
        stub_end = _first_fixed_day(start, day, strictly_after=False)
        y, mo = stub_end.year, stub_end.month
        dates = [add_months(y, mo, day, step * k) for k in range(1, n + 1)]
        return dates, True, (stub_end if stub_end != start else None)
    first = _first_fixed_day(start, day, strictly_after=True)
    regular = first == add_months(start.year, start.month, start.day, step)
    y, mo = first.year, first.month
    return [add_months(y, mo, day, step * k) for k in range(n)], regular, None
