"""Day-count conventions and period rates.

A convention turns two dates into a year fraction, and an annual rate into a daily rate:

=========== ====================================== =========================
name        days counted                           year basis
=========== ====================================== =========================
ACT/360     actual calendar days                   360
ACT/365F    actual calendar days                   365 (fixed, also in leap years)
30/360      30-day months (US bond basis, 31 -> 30) 360
ACT/ACT     actual days                            365 or 366, split by year (ISDA)
=========== ====================================== =========================

The convention is a product parameter. Whole monthly periods always use ``annual / 12`` (and whole
weekly, bi-weekly and quarterly periods ``annual / periods per year``); the convention prices the broken
periods (an irregular first period, days before a prepayment) and day-based products (a bullet loan of
N days).
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum

from core.errors import InvalidArgumentError


class DayCount(StrEnum):
    """A day-count convention; the value is the name used in products and on the command line."""

    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    THIRTY_360 = "30/360"
    ACT_ACT = "ACT/ACT"

    @classmethod
    def parse(cls, value: DayCount | str) -> DayCount:
        """Return the convention named ``value``; raise :class:`InvalidArgumentError` naming ``day_count``."""
        if isinstance(value, DayCount):
            return value
        for member in cls:
            if member.value == str(value).upper():
                return member
        names = ", ".join(m.value for m in cls)
        raise InvalidArgumentError(
            f"day_count: unknown convention {value!r}; expected one of {names}", field="day_count", value=value
        )

    @property
    def basis(self) -> int:
        """Days in the year the daily rate divides by (365 for ACT/ACT, whose fraction splits by year)."""
        return 360 if self in (DayCount.ACT_360, DayCount.THIRTY_360) else 365

    def days(self, start: date, end: date) -> int:
        """Days between ``start`` (excluded) and ``end`` (included) under this convention."""
        if self is DayCount.THIRTY_360:
            return _days_30_360(start, end)
        return (end - start).days

    def year_fraction(self, start: date, end: date) -> Decimal:
        """The fraction of a year from ``start`` to ``end``, exact (no rounding)."""
        if self is DayCount.ACT_ACT:
            return _act_act_isda(start, end)
        return Decimal(self.days(start, end)) / Decimal(self.basis)

    def daily_rate(self, annual_rate: Decimal) -> Decimal:
        """The daily rate for ``annual_rate``: annual / 360 or annual / 365."""
        return annual_rate / Decimal(self.basis)

    def interest(self, principal: Decimal, annual_rate: Decimal, start: date, end: date) -> Decimal:
        """Unrounded simple interest on ``principal`` from ``start`` to ``end``."""
        return principal * annual_rate * self.year_fraction(start, end)


def _days_30_360(start: date, end: date) -> int:
    d1 = min(start.day, 30)
    d2 = end.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def _act_act_isda(start: date, end: date) -> Decimal:
    if end < start:
        return -_act_act_isda(end, start)
    total = Decimal(0)
    cursor = start
    while cursor.year < end.year:
        year_end = date(cursor.year + 1, 1, 1)
        total += Decimal((year_end - cursor).days) / (366 if calendar.isleap(cursor.year) else 365)
        cursor = year_end
    return total + Decimal((end - cursor).days) / (366 if calendar.isleap(cursor.year) else 365)
