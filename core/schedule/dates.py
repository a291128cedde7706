"""Due dates: month arithmetic with month-end clamping, fixed repayment days, weekly steps.

Month steps are taken from an anchor day, not from the previous due date, so a loan disbursed on
31 January falls due on 28 (or 29) February and again on 31 March. A fixed repayment day of 31 clamps the
same way. Weekly and bi-weekly loans step 7 or 14 days; their fixed repayment day is an ISO weekday.

A series of month steps depends only on (year, month, day, step, count), and a portfolio has few distinct
disbursement days, so :func:`month_series` keeps the series it has made (dates are immutable).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from core.schedule.terms import DueDayRule, FirstPeriod, Frequency, LoanTerms

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_WEEK = 7


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


@lru_cache(maxsize=16384)
def month_series(year: int, month: int, day: int, step: int, count: int) -> tuple[date, ...]:
    """``count`` dates every ``step`` months after (year, month) (which is excluded), on ``day`` clamped.

    >>> month_series(2026, 1, 31, 1, 3)
    (datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), datetime.date(2026, 4, 30))
    """
    base = year * 12 + month - 1
    dates = []
    for k in range(step, step * count + 1, step):
        y, m = divmod(base + k, 12)
        m += 1
        dates.append(date(y, m, day if day <= 28 else min(day, month_length(y, m))))
    return tuple(dates)


def _fixed_day_after(after: date, day: int, strictly: bool) -> date:
    """The first ``day`` of a month (clamped) after ``after`` (or on it unless ``strictly``)."""
    candidate = date(after.year, after.month, min(day, month_length(after.year, after.month)))
    if candidate < after or (strictly and candidate == after):
        candidate = add_months(after.year, after.month, day, 1)
    return candidate


def _weekday_after(after: date, weekday: int, strictly: bool) -> date:
    """The first ISO ``weekday`` after ``after`` (or on it unless ``strictly``)."""
    ahead = (weekday - after.isoweekday()) % _WEEK
    if strictly and ahead == 0:
        ahead = _WEEK
    return after + timedelta(days=ahead)


def due_dates(terms: LoanTerms) -> tuple[list[date], bool, date | None]:
    """The due dates of every period, and how the first period is shaped.

    Returns:
        ``(dates, first_is_regular, stub_end)``: ``first_is_regular`` is false when the first period must
        be priced by the day count; ``stub_end`` is the end of the extra days (the ``extra_days`` rule)
        whose interest is added to a regular first period, else ``None``.
    """
    start, n, freq = terms.start_date, terms.periods, terms.frequency
    if freq is Frequency.DAILY:
        return [start + timedelta(days=n)], False, None
    days = freq.days
    if terms.due_day_rule is DueDayRule.SAME_DAY:
        if days:
            return [start + timedelta(days=days * k) for k in range(1, n + 1)], True, None
        return list(month_series(start.year, start.month, start.day, freq.months, n)), True, None
    assert terms.repayment_day is not None  # LoanTerms guarantees it for fixed_day
    if days:
        return _fixed_weekday_dates(terms, terms.repayment_day, days)
    return _fixed_month_day_dates(terms, terms.repayment_day, freq.months)


def _fixed_month_day_dates(terms: LoanTerms, day: int, months: int) -> tuple[list[date], bool, date | None]:
    start, n = terms.start_date, terms.periods
    if terms.first_period is FirstPeriod.EXTRA_DAYS:
        stub_end = _fixed_day_after(start, day, strictly=False)
        dates = list(month_series(stub_end.year, stub_end.month, day, months, n))
        return dates, True, (stub_end if stub_end != start else None)
    after = add_months(start.year, start.month, start.day, months - 1) if months > 1 else start
    first = _fixed_day_after(after, day, strictly=True)
    regular = first == add_months(start.year, start.month, start.day, months)
    return [first, *month_series(first.year, first.month, day, months, n - 1)], regular, None


def _fixed_weekday_dates(terms: LoanTerms, weekday: int, days: int) -> tuple[list[date], bool, date | None]:
    start, n = terms.start_date, terms.periods
    if terms.first_period is FirstPeriod.EXTRA_DAYS:
        stub_end = _weekday_after(start, weekday, strictly=False)
        dates = [stub_end + timedelta(days=days * k) for k in range(1, n + 1)]
        return dates, True, (stub_end if stub_end != start else None)
    first = _weekday_after(start + timedelta(days=days - _WEEK), weekday, strictly=True)
    regular = (first - start).days == days
    return [first + timedelta(days=days * k) for k in range(n)], regular, None
