"""Closed accounting periods: no entry may be dated inside one.

A row of :class:`ClosedPeriod` is a month finance has closed (:mod:`core.finance.period_close` closes and
reopens them under dual control). The rule that nothing posts with a business date inside a closed period is
held twice: every posting function of the ledger (:func:`core.ledger.post`, :func:`~core.ledger.post_many`,
:func:`core.ledger.set_posting.post_pairs`) calls :func:`refuse_closed` before writing, raising
:class:`PeriodClosedError` naming ``business_date``; and on PostgreSQL a statement trigger on
``ledger_entries`` refuses any insert, raw SQL included, whose rows fall in a closed period
(``check_violation``). A correction after the close is posted in the open period, dated there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import cast

from sqlalchemy import DDL, Date, DateTime, String, Table, event, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base
from core.errors import LoanFactoryError
from core.ledger.models import JournalEntry


class PeriodClosedError(LoanFactoryError):
    """An entry would be dated inside a closed accounting period (``field="business_date"``)."""


class ClosedPeriod(Base):
    """One closed accounting period: ``first_day`` .. ``last_day`` (a calendar month)."""

    __tablename__ = "ledger_closed_periods"

    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def closed_period_of(session: Session, day: date) -> ClosedPeriod | None:
    """The closed period ``day`` lies in, if any."""
    return session.scalars(select(ClosedPeriod).where(ClosedPeriod.first_day <= day,
                                                      ClosedPeriod.last_day >= day)).first()


def refuse_closed(session: Session, days: Iterable[date]) -> None:
    """Raise :class:`PeriodClosedError` if any of ``days`` lies in a closed period (one query for all).

    Raises:
        PeriodClosedError: naming the first such day and its period (field ``business_date``).
    """
    wanted = sorted(set(days))
    if not wanted:
        return
    periods = session.execute(select(ClosedPeriod.first_day, ClosedPeriod.last_day).where(
        ClosedPeriod.first_day <= wanted[-1], ClosedPeriod.last_day >= wanted[0])).all()
    for day in wanted:
        for first, last in periods:
            if first <= day <= last:
                raise PeriodClosedError(
                    f"business_date: {day} is in the closed accounting period {first:%Y-%m} ({first} to {last}); "
                    "post the correction in the open period", field="business_date", value=day)


_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest date;
    latest date;
    bad record;
BEGIN
    SELECT min(business_date), max(business_date) INTO earliest, latest FROM inserted;
    IF earliest IS NULL OR NOT EXISTS (SELECT 1 FROM ledger_closed_periods
                                       WHERE first_day <= latest AND last_day >= earliest) THEN
        RETURN NULL;
    END IF;
    SELECT i.idempotency_key, i.business_date, p.first_day, p.last_day INTO bad
        FROM inserted i JOIN ledger_closed_periods p ON i.business_date BETWEEN p.first_day AND p.last_day LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is dated %, inside the closed accounting period % to %',
            bad.idempotency_key, bad.business_date, bad.first_day, bad.last_day
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""

_REFUSE_TRIGGER = """
CREATE TRIGGER ledger_entries_outside_closed_periods AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_closed_period()
"""

#: the PostgreSQL guard, in order; ``create_all`` installs it, a migration runs each with ``op.execute``
POSTGRESQL_PERIOD_DDL = (_REFUSE_FUNCTION, _REFUSE_TRIGGER)

# created after ledger_entries, which its trigger goes on
cast(Table, ClosedPeriod.__table__).add_is_dependent_on(cast(Table, JournalEntry.__table__))
event.listen(ClosedPeriod.__table__, "after_create",
             DDL(";\n".join(POSTGRESQL_PERIOD_DDL).replace("%", "%%")).execute_if(  # type: ignore[no-untyped-call]
                 dialect="postgresql"))
