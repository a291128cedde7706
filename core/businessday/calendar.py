"""The business calendar: which dates exist for the books, and which of them are working days.

One row per calendar date in ``business_calendar`` says whether the date is a working day (weekends
are rest days unless marked as a make-up working day 调休, public holidays are rest days). The table is
editable data seeded for as far as the holidays are known (the State Council publishes each year's in
the previous December); its last date is the calendar's *covered-until*. End-of-day refuses to run for
a date past it, so a batch can never run on a year whose holidays nobody has entered.

Interest and penalty accrue on every calendar day; working days matter to what is scheduled on them
(collections, bank files), which ask :func:`next_business_day`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import Boolean, Date, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base
from core.errors import InvalidArgumentError, LoanFactoryError


class CalendarNotCoveredError(LoanFactoryError):
    """A date past the business calendar's covered-until (or with no calendar at all) was asked for."""


class CalendarDay(Base):
    """One date of the business calendar."""

    __tablename__ = "business_calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_business_day: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str] = mapped_column(String(80), nullable=False, default="")


def seed_calendar(session: Session, start: date, end: date, *, holidays: Iterable[date] = (),
                  workdays: Iterable[date] = (), notes: dict[date, str] | None = None) -> int:
    """Add the dates ``start``..``end`` that are missing; existing rows are kept as they were edited.

    Args:
        holidays: public holidays (rest days even on a weekday).
        workdays: make-up working days (调休: working days even on a weekend).
        notes: an optional note per date (the holiday's name).

    Returns:
        How many dates were added.

    Raises:
        InvalidArgumentError: ``end`` is before ``start`` (field ``end``) or a date is both a holiday and a
            working day (field ``workdays``).
    """
    if end < start:
        raise InvalidArgumentError(f"end: {end} is before start {start}", field="end", value=end)
    rest, work = set(holidays), set(workdays)
    if rest & work:
        raise InvalidArgumentError(f"workdays: {sorted(rest & work)[0]} is also a holiday", field="workdays")
    existing = set(session.scalars(select(CalendarDay.day).where(CalendarDay.day.between(start, end))))
    added = 0
    day = start
    while day <= end:
        if day not in existing:
            working = day in work or (day.weekday() < 5 and day not in rest)
            session.add(CalendarDay(day=day, is_business_day=working, note=(notes or {}).get(day, "")))
            added += 1
        day += timedelta(days=1)
    session.flush()
    return added


def covered_until(session: Session) -> date | None:
    """The last date of the calendar, or ``None`` when it is empty."""
    last: date | None = session.scalar(select(func.max(CalendarDay.day)))
    return last


def ensure_covered(session: Session, day: date) -> None:
    """Raise :class:`CalendarNotCoveredError` (field ``business_date``) unless ``day`` is in the calendar."""
    last = covered_until(session)
    if last is None or day > last:
        raise CalendarNotCoveredError(
            f"business_date: {day} is past the business calendar, which covers until {last or 'nothing yet'}; "
            "seed the calendar (loanfactory eod calendar --until ...) first", field="business_date", value=day)


def is_business_day(session: Session, day: date) -> bool:
    """Whether ``day`` is a working day; raises :class:`CalendarNotCoveredError` past the calendar."""
    ensure_covered(session, day)
    row = session.get(CalendarDay, day)
    if row is None:
        raise CalendarNotCoveredError(f"business_date: {day} is missing from the business calendar",
                                      field="business_date", value=day)
    return row.is_business_day


def next_business_day(session: Session, day: date) -> date:
    """The first working day on or after ``day``.

    Raises:
        CalendarNotCoveredError: the calendar ends before a working day is found.
    """
    found: date | None = session.scalar(
        select(func.min(CalendarDay.day)).where(CalendarDay.day >= day, CalendarDay.is_business_day.is_(True)))
    if found is None:
        raise CalendarNotCoveredError(f"business_date: no working day on or after {day} in the calendar",
                                      field="business_date", value=day)
    return found
