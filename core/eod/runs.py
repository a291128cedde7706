"""A distributed end-of-day run as operators watch it: when each date's partitions were sent, how far they are,
and whether the run has stalled.

A run of a business date is sent to the workers as one task per partition (:mod:`loanfactory.tasks.eod`); the
``eod_runs`` row of the date records when it was sent (``dispatched_at``), how many partitions the plan had and
how often the missing ones were sent again (``resent``). Progress is read from the run log itself
(``eod_step_runs``: a partition is done once its rows are committed), so it is exact whoever did the work.
A run is *stalled* when its date is not closed and nothing happened for ``stall_after`` (no partition finished,
nothing sent): a killed worker's partitions wait for the broker's visibility timeout, and a stall sends them
again (each partition is idempotent, so a duplicate does nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, DateTime, Integer, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.businessday.closes import FINALIZE, EodStepRun, last_closed
from core.db.base import Base
from core.eod.partition import SUB_STEPS

DONE_STEP = SUB_STEPS[-1]


class EodRun(Base):
    """The sending of one business date's partitions to the workers."""

    __tablename__ = "eod_runs"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    partitions: Mapped[int] = mapped_column(Integer, nullable=False)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    resent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


@dataclass(frozen=True)
class RunProgress:
    """Where the run of ``business_date`` stands: partitions done of ``partitions``, and its last activity."""

    business_date: date
    partitions: int
    done: int
    closed: bool
    last_activity: datetime

    def stalled(self, now: datetime, stall_after: timedelta) -> bool:
        """Not closed, and nothing happened for ``stall_after``."""
        return not self.closed and now - self.last_activity > stall_after

    def as_json(self) -> dict[str, object]:
        """JSON-ready form (health endpoint, ``eod status --json``)."""
        return {"business_date": self.business_date.isoformat(), "partitions": self.partitions,
                "done": self.done, "closed": self.closed, "last_activity": self.last_activity.isoformat()}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_dispatch(session: Session, on: date, partitions: int, now: datetime) -> bool:
    """Record that ``on``'s partitions are sent now; ``False`` when another sender recorded it first."""
    try:
        with session.begin_nested():
            session.add(EodRun(business_date=on, partitions=partitions, dispatched_at=now, resent=0))
    except IntegrityError:
        return False
    return True


def record_resend(session: Session, on: date, now: datetime) -> None:
    """Record that ``on``'s missing partitions were sent again now."""
    run = session.get(EodRun, on, with_for_update=True)
    if run is not None:
        run.dispatched_at, run.resent = now, run.resent + 1
        session.flush()


def progress_of(session: Session, on: date) -> RunProgress | None:
    """The progress of ``on``'s run, or ``None`` when it was never sent to workers."""
    run = session.get(EodRun, on)
    if run is None:
        return None
    done, last = session.execute(
        select(func.count(), func.max(EodStepRun.finished_at))
        .where(EodStepRun.business_date == on, EodStepRun.step == DONE_STEP)).one()
    closed = session.scalar(select(func.count()).select_from(EodStepRun).where(
        EodStepRun.business_date == on, EodStepRun.step == FINALIZE))
    activity = max(_aware(run.dispatched_at), _aware(last)) if last is not None else _aware(run.dispatched_at)
    return RunProgress(on, max(run.partitions, int(done)), int(done), bool(closed), activity)


def open_run(session: Session) -> RunProgress | None:
    """The run of the first date after the last closed one, if it was sent and is not closed."""
    last = last_closed(session)
    if last is None:
        first: date | None = session.scalar(select(func.min(EodRun.business_date)))
        on = first
    else:
        on = last + timedelta(days=1)
    found = progress_of(session, on) if on is not None else None
    return found if found is not None and not found.closed else None
