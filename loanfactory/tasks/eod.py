"""End-of-day on Celery: one task per partition, no chord, no result backend, scheduled and watched.

:func:`dispatch` brings the books towards a target date: it finalizes every pending date whose partitions are
all in (or that has none), and for the first date still open it sends one ``close_partition`` task per missing
partition, recording the sending (:class:`core.eod.runs.EodRun`). Each partition task closes its block of loan
ids in its own transaction and commits (its ``(date, sub-step, partition)`` rows commit with the work, so a task
delivered twice does the work once), then calls :func:`dispatch` itself: the partition that completes a date
finalizes it and sends the next date's partitions, so a run catches up several dates by itself. Nothing waits
for a task's result, so the deployment needs no result backend and a worker never blocks on another.

Safe redelivery: partition tasks are ``acks_late`` and ``reject_on_worker_lost`` (a prefork child that dies
puts its message back at once). A worker killed whole (SIGKILL, a lost machine) leaves its messages unacked in
Redis until the broker's visibility timeout (``broker_transport_options.visibility_timeout``, 900 s by
default here); before that, a run with no progress for ``EOD_STALL_SECONDS`` is *stalled*, and
:func:`dispatch` (from beat's catch-up tick or from a waiting ``eod run``) sends the missing partitions again.

Schedule (Celery beat, in ``BUSINESS_TIMEZONE``): at ``EOD_AT`` (local ``HH:MM``, default ``00:30``) the day
that has just ended is closed (:func:`scheduled_date`), and every ``EOD_CATCHUP_SECONDS`` (default 300) the
same task catches up whatever downtime missed and resends a stalled run. ``EOD_AT`` empty leaves end-of-day
off the schedule (an outside scheduler runs ``loanfactory eod run``).

With the embedded default (``task_always_eager``) there is no broker: :func:`run_locally` closes the
partitions in this process, or in ``workers`` local processes, with the same functions.
"""

from __future__ import annotations

import logging
import multiprocessing
import time as timer
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.businessday.closes import EodStepRun
from core.db.base import make_engine, make_session_factory
from core.eod.run import (
    EodReport,
    Partition,
    close_partition,
    finalize,
    missing_partitions,
    pending_dates,
    plan_partitions,
)
from core.eod.runs import RunProgress, progress_of, record_dispatch, record_resend
from core.errors import InvalidArgumentError
from loanfactory import clock
from loanfactory.database import db_session, get_db

Progress = Callable[[date, int, int], None]
PARTITION_TASK = "loanfactory.eod.close_partition"
DISPATCH_TASK = "loanfactory.eod.dispatch"
DEFAULT_EOD_AT = "00:30"
DEFAULT_CATCHUP_SECONDS = 300
DEFAULT_STALL_SECONDS = 300

log = logging.getLogger("loanfactory.eod")


def _partition_size(size: int | None = None) -> int:
    return int(size or current_app.config.get("EOD_PARTITION_SIZE", 50_000))


def eod_at(value: object) -> time | None:
    """``EOD_AT`` as a time of day, ``None`` when empty (not scheduled).

    Raises:
        InvalidArgumentError: not ``HH:MM`` (field ``EOD_AT``).
    """
    if value in (None, "", False):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidArgumentError(f"EOD_AT: {value!r} is not a time of day (HH:MM)", field="EOD_AT",
                                   value=value) from exc


def stall_after() -> timedelta:
    """``EOD_STALL_SECONDS`` of the current app."""
    return timedelta(seconds=float(current_app.config.get("EOD_STALL_SECONDS", DEFAULT_STALL_SECONDS)))


def scheduled_date(now: datetime, today: date, at: time) -> date:
    """The last business date the schedule has closed by ``now`` (the lender's local time): the day that
    ended at midnight once ``at`` has passed today, else the day before it."""
    ended = today - timedelta(days=1)
    return ended if now.time() >= at else ended - timedelta(days=1)


def _send(on: date, partitions: list[Partition], size: int, target: date) -> None:
    for part in partitions:
        close_partition_task.apply_async((on.isoformat(), part.lo, part.hi, size, target.isoformat()))


def dispatch(target: date, size: int | None = None) -> RunProgress | None:
    """Finalize the dates that are complete and send the missing partitions of the first open one (again,
    when its run has stalled); the open date's progress (``closed`` when the tasks ran at once, eagerly),
    ``None`` once ``target`` is closed.

    Raises:
        CalendarNotCoveredError: ``target`` is past the business calendar.
    """
    size = _partition_size(size)
    session = db_session()
    try:
        for on in pending_dates(session, target):
            missing = missing_partitions(session, on, size)
            if not missing:
                try:
                    if finalize(session, on, size):
                        log.info("end-of-day %s closed", on)
                    session.commit()
                except IntegrityError:
                    session.rollback()  # another task finalized it at the same moment
                continue
            now = clock.now()
            found = progress_of(session, on)
            if found is None:
                if record_dispatch(session, on, len(missing), now):
                    session.commit()
                    log.info("end-of-day %s: sent %d partition(s) (target %s)", on, len(missing), target)
                    _send(on, missing, size, target)
                session.rollback()
                return progress_of(session, on)
            if found.stalled(now, stall_after()):
                record_resend(session, on, now)
                session.commit()
                log.warning("end-of-day %s stalled (%d of %d partitions, nothing since %s): resent %d",
                            on, found.done, found.partitions, found.last_activity.isoformat(), len(missing))
                _send(on, missing, size, target)
            return found
        return None
    finally:
        session.rollback()


@shared_task(name=PARTITION_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_partition_task(business_date: str, lo: int, hi: int, size: int | None = None,
                         target: str | None = None) -> dict[str, Any]:
    """Close ``business_date`` for loan ids ``lo..hi`` and commit (idempotent per partition), then carry the run
    on towards ``target`` (:func:`dispatch`)."""
    on = date.fromisoformat(business_date)
    session = db_session()
    started = timer.perf_counter()
    try:
        result = close_partition(session, on, Partition(lo, hi))
        session.commit()
    except IntegrityError:
        session.rollback()  # another delivery closed this partition at the same moment
        result = None
    except BaseException:
        session.rollback()
        raise
    if result is not None:
        log.info("end-of-day %s partition %d-%d: %d loans, %d entries in %.1f s", on, lo, hi, result.loans,
                 result.entries, timer.perf_counter() - started)
    dispatch(date.fromisoformat(target or business_date), size)
    return {"partition": f"{lo}-{hi}", "loans": result.loans if result else 0,
            "entries": result.entries if result else 0, "skipped": result is None}


@shared_task(name=DISPATCH_TASK, ignore_result=True)
def dispatch_eod(business_date: str | None = None) -> dict[str, Any]:
    """Beat's end-of-day: bring the books to ``business_date`` (default: :func:`scheduled_date` on the lender's
    clock), catching up and resending a stalled run."""
    if business_date:
        target = date.fromisoformat(business_date)
    else:
        at = eod_at(current_app.config.get("EOD_AT", DEFAULT_EOD_AT)) or time(0)
        business = clock.clock_of()
        target = scheduled_date(business.now(), business.today(), at)
    found = dispatch(target)
    return {"target": target.isoformat(), "open": found.as_json() if found and not found.closed else None}


def schedule_eod(app: Flask) -> None:
    """Put :func:`dispatch_eod` on beat's schedule at ``EOD_AT`` and every ``EOD_CATCHUP_SECONDS``, in the lender's
    zone (nothing when ``EOD_AT`` is empty)."""
    at = eod_at(app.config.get("EOD_AT", DEFAULT_EOD_AT))
    if at is None:
        return
    celery = app.extensions["celery"]
    celery.conf.timezone = str(clock.clock_of(app).zone)
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-eod"] = {"task": DISPATCH_TASK, "schedule": crontab(hour=at.hour, minute=at.minute)}
    schedule["loanfactory-eod-catch-up"] = {
        "task": DISPATCH_TASK, "schedule": float(app.config.get("EOD_CATCHUP_SECONDS", DEFAULT_CATCHUP_SECONDS))}
    celery.conf.beat_schedule = schedule


def _summary(report: EodReport, dates: list[date]) -> None:
    """Fill ``report`` from the run log of ``dates`` (whoever closed them)."""
    session = db_session()
    entries, accrued, parts = session.execute(
        select(func.coalesce(func.sum(EodStepRun.entries), 0),
               func.coalesce(func.sum(EodStepRun.loans).filter(EodStepRun.step == "accrual"), 0),
               func.count().filter(EodStepRun.step == "classify"))
        .where(EodStepRun.business_date.in_(dates))).one()
    session.rollback()
    report.dates, report.entries, report.loans, report.partitions_run = dates, int(entries), int(accrued), int(parts)


def run_with_celery(business_date: date, *, size: int | None = None, progress: Progress | None = None,
                    timeout: float = 3600, poll: float = 0.5) -> EodReport:
    """Send the run to the workers and watch it until ``business_date`` is closed; inside an app context.

    Progress is read from the database, so nothing here needs a result backend. A stalled run is resent
    (:func:`dispatch`). The report counts the entries and partitions of the dates closed and, as its loans,
    the loans that accrued interest.

    Raises:
        TimeoutError: ``business_date`` is not closed within ``timeout`` seconds.
    """
    size = _partition_size(size)
    session = db_session()
    dates = pending_dates(session, business_date)
    session.rollback()
    deadline = timer.monotonic() + timeout
    seen: RunProgress | None = None
    while (found := dispatch(business_date, size)) is not None and not found.closed:
        if progress is not None:
            if seen is not None and seen.business_date != found.business_date:
                progress(seen.business_date, seen.partitions, seen.partitions)  # that date closed meanwhile
            progress(found.business_date, found.done, found.partitions)
        seen = found
        if timer.monotonic() > deadline:
            raise TimeoutError(f"end-of-day {business_date} did not finish in {timeout} s "
                               f"({found.business_date}: {found.done} of {found.partitions} partitions)")
        timer.sleep(poll)
    if progress is not None and seen is not None:
        progress(seen.business_date, seen.partitions, seen.partitions)
    report = EodReport()
    _summary(report, dates)
    return report
def _plan(business_date: date, size: int) -> list[tuple[date, list[Partition]]]:
    session = db_session()
    plan = [(on, plan_partitions(session, on, size)) for on in pending_dates(session, business_date)]
    session.rollback()
    return plan


_WORKER: dict[str, Any] = {}


def _worker_start(url: str) -> None:
    _WORKER["factory"] = make_session_factory(make_engine(url))


def _worker_close(business_date: str, lo: int, hi: int) -> tuple[int, int]:
    with _WORKER["factory"]() as session:
        try:
            result = close_partition(session, date.fromisoformat(business_date), Partition(lo, hi))
            session.commit()
        except IntegrityError:
            session.rollback()
            result = None
    return (result.loans, result.entries) if result else (0, 0)


def run_locally(app: Flask, business_date: date, *, workers: int = 1, size: int | None = None,
                progress: Progress | None = None) -> EodReport:
    """Close every pending date with ``workers`` local processes (1: in this process), a commit per partition."""
    with app.app_context():
        size = _partition_size(size)
        plan = _plan(business_date, size)
        url = str(get_db(app).engine.url.render_as_string(hide_password=False))
    report = EodReport()
    pool = None
    if workers > 1:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_start, initargs=(url,))
    else:
        _worker_start(url)
    try:
        for on, partitions in plan:
            jobs = [(on.isoformat(), p.lo, p.hi) for p in partitions]
            done = 0
            outcomes = pool.map(_worker_close, *zip(*jobs, strict=True)) if pool and jobs else \
                (_worker_close(*job) for job in jobs)
            for loans, entries in outcomes:
                done += 1
                report.loans += loans
                report.entries += entries
                if progress is not None:
                    progress(on, done, len(partitions))
            report.partitions_run += len(partitions)
            with app.app_context():
                session = db_session()
                finalize(session, on, size)
                session.commit()
            report.dates.append(on)
    finally:
        if pool is not None:
            pool.shutdown()
    return report
