"""Running end-of-day for a business date: partitions, the run log, catching up, refusing the future.

A business date is closed partition by partition. A partition is a fixed block of loan ids
(``partition_size`` ids, aligned: 1–50000, 50001–100000, ...), so the plan does not depend on how many
workers run it. :func:`close_partition` does one partition's work and records, in the caller's
transaction, one row per sub-step of the day's rule (``fall_due``, ``accrual``, ``suspense``,
``penalty``, ``late_fee``, ``classify``, ``non_accrual``: :data:`core.eod.partition.SUB_STEPS`) as
``(date, step, "<lo>-<hi>")`` in
``eod_step_runs``, each with the loans it changed and the entries it posted; the sub-steps of a loan run
in order in one pass, so a partition's rows are claimed and committed together. :func:`finalize` checks
every partition of the date is there and records ``(date, "finalize", "*")``, which closes the date.

:func:`run_eod` does it all in the caller's session: every date from the day after the last closed one
up to ``business_date`` in order (catching up missed days), refusing a date past the business calendar.
Re-running a closed date does nothing. Celery runs the same functions, a partition per task
(:mod:`loanfactory.tasks.eod`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.businessday.calendar import ensure_covered
from core.businessday.closes import FINALIZE, EodStepRun, last_closed
from core.eod.partition import SUB_STEPS, CloseResult, close_loans
from core.errors import LoanFactoryError
from core.loans.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy
from core.loans.models import Loan

#: a partition is closed once its last sub-step is recorded (all are recorded together)
DONE_STEP = SUB_STEPS[-1]
WHOLE = "*"
DEFAULT_PARTITION_SIZE = 50_000


class EodOrderError(LoanFactoryError):
    """A date was asked before the previous business date was closed, or finalized with partitions missing."""


@dataclass(frozen=True)
class Partition:
    """A block of loan ids ``lo..hi``."""

    lo: int
    hi: int

    @property
    def name(self) -> str:
        return f"{self.lo}-{self.hi}"

    @classmethod
    def parse(cls, name: str) -> Partition:
        lo, hi = name.split("-")
        return cls(int(lo), int(hi))


@dataclass
class EodReport:
    """What :func:`run_eod` did: the dates it closed, loans touched, entries posted, partitions skipped."""

    dates: list[date] = field(default_factory=list)
    loans: int = 0
    entries: int = 0
    partitions_run: int = 0
    partitions_skipped: int = 0


def pending_dates(session: Session, business_date: date) -> list[date]:
    """The dates to close, in order, to bring the books to ``business_date`` (empty when closed already).

    Raises:
        CalendarNotCoveredError: ``business_date`` is past the business calendar.
    """
    ensure_covered(session, business_date)
    last = last_closed(session)
    if last is None:
        return [business_date]
    return [last + timedelta(days=k) for k in range(1, (business_date - last).days + 1)]


def plan_partitions(session: Session, on: date, size: int = DEFAULT_PARTITION_SIZE) -> list[Partition]:
    """The aligned id blocks that hold loans open on ``on``."""
    low, high = session.execute(select(func.min(Loan.id), func.max(Loan.id))
                                .where(Loan.state.in_(("active", "overdue")), Loan.disbursed_on < on)).one()
    if low is None:
        return []
    first, last = (low - 1) // size, (high - 1) // size
    return [Partition(k * size + 1, (k + 1) * size) for k in range(first, last + 1)]


def _claim(session: Session, on: date, steps: Sequence[str], partition: str) -> list[EodStepRun] | None:
    """Insert the run rows of ``steps`` in one savepoint; ``None`` when they already ran (or run) for this
    partition."""
    rows = [EodStepRun(business_date=on, step=step, partition=partition) for step in steps]
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:
        return None
    return rows


def close_partition(session: Session, on: date, partition: Partition,
                    policies: Sequence[ClassificationPolicy] = DEFAULT_CLASSIFICATION,
                    set_based: bool | None = None) -> CloseResult | None:
    """Close ``on`` for one partition once; ``None`` when it was closed already.

    Args:
        set_based: passed to :func:`core.eod.partition.close_loans` (default: SQL for the quiet loans on
            PostgreSQL).

    Raises:
        EodOrderError: the previous business date is not closed yet.
        CalendarNotCoveredError: ``on`` is past the business calendar.
    """
    ensure_covered(session, on)
    last = last_closed(session)
    if last is not None and on <= last:
        return None
    if last is not None and on != last + timedelta(days=1):
        raise EodOrderError(f"business_date: {on} cannot run before {last + timedelta(days=1)} is closed",
                            field="business_date", value=on)
    rows = _claim(session, on, SUB_STEPS, partition.name)
    if rows is None:
        return None
    result = close_loans(session, on, lo=partition.lo, hi=partition.hi, policies=policies, set_based=set_based)
    for row in rows:
        row.loans, row.entries = result.step(row.step)
    session.flush()
    return result


def missing_partitions(session: Session, on: date, size: int = DEFAULT_PARTITION_SIZE) -> list[Partition]:
    """The partitions of ``on``'s plan not closed yet (empty: the date may be finalized)."""
    done = {partition for partition, steps in session.execute(
        select(EodStepRun.partition, func.count()).where(EodStepRun.business_date == on,
                                                         EodStepRun.step.in_(SUB_STEPS))
        .group_by(EodStepRun.partition)) if steps == len(SUB_STEPS)}
    return [p for p in plan_partitions(session, on, size) if p.name not in done]


def finalize(session: Session, on: date, size: int = DEFAULT_PARTITION_SIZE) -> bool:
    """Close the business date ``on`` once every partition has run; ``False`` if it was closed already.

    Raises:
        EodOrderError: a partition of ``on`` has not run.
    """
    missing = [p.name for p in missing_partitions(session, on, size)]
    if missing:
        raise EodOrderError(f"business_date: {on} has partitions not closed yet: {', '.join(missing[:5])}",
                            field="business_date", value=on)
    return _claim(session, on, [FINALIZE], WHOLE) is not None


ProgressCallback = Callable[[date, int, int], None]


def run_eod(session: Session, business_date: date, *, partition_size: int = DEFAULT_PARTITION_SIZE,
            policies: Sequence[ClassificationPolicy] = DEFAULT_CLASSIFICATION,
            progress: ProgressCallback | None = None, set_based: bool | None = None) -> EodReport:
    """Close every pending date up to ``business_date`` in the caller's transaction (no commit).

    Args:
        progress: called with ``(date, partitions done, partitions of the date)`` after each partition.
        set_based: see :func:`close_partition`.

    Raises:
        CalendarNotCoveredError: ``business_date`` is past the business calendar.
    """
    report = EodReport()
    for on in pending_dates(session, business_date):
        partitions = plan_partitions(session, on, partition_size)
        for number, partition in enumerate(partitions, 1):
            result = close_partition(session, on, partition, policies, set_based)
            if result is None:
                report.partitions_skipped += 1
            else:
                report.partitions_run += 1
                report.loans += result.loans
                report.entries += result.entries
            if progress is not None:
                progress(on, number, len(partitions))
        if finalize(session, on, partition_size):
            report.dates.append(on)
    return report
