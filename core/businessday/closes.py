"""The end-of-day run log: one row per (business date, step, partition) that has completed.

The unique constraint is the idempotency guard: a partition's steps insert their rows in the same
transaction as their work, so the work of a (date, step, partition) is committed at most once. A second
run of the same date finds the rows and does nothing; a concurrent second run blocks on the unique index
until the first commits, then fails its insert and rolls back, leaving one result. A worker that dies
mid-partition rolls its transaction back, rows included, so a re-run does the partition again.
The ``finalize`` step of a date (partition ``*``) marks the business date closed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base

#: the step that closes a whole business date (partition ``*``)
FINALIZE = "finalize"


class EodStepRun(Base):
    """A completed end-of-day step for one partition of loans (``lo``..``hi`` loan ids)."""

    __tablename__ = "eod_step_runs"
    __table_args__ = (UniqueConstraint("business_date", "step", "partition"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(30))
    partition: Mapped[str] = mapped_column(String(40))
    loans: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def first_open_date(session: Session, day: date) -> date:
    """``day`` if it is still open, else the first business date after the last closed one."""
    last = last_closed(session)
    return day if last is None or day > last else last + timedelta(days=1)


def last_closed(session: Session) -> date | None:
    """The latest finalized business date, or ``None`` before the first end-of-day."""
    found: date | None = session.scalar(select(func.max(EodStepRun.business_date)).where(EodStepRun.step == FINALIZE))
    return found
