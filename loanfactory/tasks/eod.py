"""End-of-day on Celery: a chord of partitions per business date, then ``finalize``.

``close_partition_task`` closes one block of loan ids in its own transaction and commits; its
``(date, sub-step, partition)`` rows commit with the work, so a task delivered twice (``acks_late``:
a worker killed mid-task gets its message redelivered, ``reject_on_worker_lost`` requeues it) does the
work once. ``finalize_task`` closes the date when every partition is in. :func:`run_with_celery` sends one
chord per pending date and waits for it; more workers on more machines take partitions in parallel.

With the embedded default (``task_always_eager``) there is no broker: :func:`run_locally` closes the
partitions in this process, or in ``workers`` local processes, with the same functions.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

from celery import chord, group, shared_task
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.businessday.closes import EodStepRun
from core.db.base import make_engine, make_session_factory
from core.eod.run import DONE_STEP, EodReport, Partition, close_partition, finalize, pending_dates, plan_partitions
from loanfactory.database import db_session, get_db

Progress = Callable[[date, int, int], None]


def _partition_size(size: int | None = None) -> int:
    return int(size or current_app.config.get("EOD_PARTITION_SIZE", 50_000))


@shared_task(name="loanfactory.eod.close_partition", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_partition_task(business_date: str, lo: int, hi: int) -> dict[str, Any]:
    """Close ``business_date`` for loan ids ``lo..hi`` and commit; idempotent per partition."""
    session = db_session()
    try:
        result = close_partition(session, date.fromisoformat(business_date), Partition(lo, hi))
        session.commit()
    except IntegrityError:
        session.rollback()  # another run closed this partition at the same moment
        result = None
    except BaseException:
        session.rollback()
        raise
    return {"partition": f"{lo}-{hi}", "loans": result.loans if result else 0,
            "entries": result.entries if result else 0, "skipped": result is None}


@shared_task(name="loanfactory.eod.finalize", acks_late=True, reject_on_worker_lost=True)
def finalize_task(results: list[dict[str, Any]], business_date: str, size: int) -> dict[str, Any]:
    """Close the business date once its partitions are in (the chord's body)."""
    session = db_session()
    try:
        closed = finalize(session, date.fromisoformat(business_date), size)
        session.commit()
    except IntegrityError:
        session.rollback()
        closed = False
    return {"date": business_date, "closed": closed, "loans": sum(r["loans"] for r in results),
            "entries": sum(r["entries"] for r in results)}


def _done(on: date) -> int:
    session = db_session()
    count = session.scalar(select(func.count()).select_from(EodStepRun)
                           .where(EodStepRun.business_date == on, EodStepRun.step == DONE_STEP))
    session.rollback()
    return int(count or 0)


def _plan(business_date: date, size: int) -> list[tuple[date, list[Partition]]]:
    session = db_session()
    plan = [(on, plan_partitions(session, on, size)) for on in pending_dates(session, business_date)]
    session.rollback()
    return plan


def run_with_celery(business_date: date, *, size: int | None = None, progress: Progress | None = None,
                    timeout: float = 3600, poll: float = 0.2) -> EodReport:
    """Send one chord per pending date to the workers and wait for each; inside an app context."""
    size = _partition_size(size)
    report = EodReport()
    for on, partitions in _plan(business_date, size):
        header = group(close_partition_task.si(on.isoformat(), p.lo, p.hi) for p in partitions)
        outcome = chord(header, finalize_task.s(on.isoformat(), size)).apply_async() if partitions else None
        deadline = time.monotonic() + timeout
        while outcome is not None and not outcome.ready():
            if progress is not None:
                progress(on, _done(on), len(partitions))
            if time.monotonic() > deadline:
                raise TimeoutError(f"end-of-day {on} did not finish in {timeout} s")
            time.sleep(poll)
        summary = outcome.get(timeout=timeout) if outcome is not None else finalize_task([], on.isoformat(), size)
        if progress is not None:
            progress(on, len(partitions), len(partitions))
        report.dates.append(on)
        report.loans += summary["loans"]
        report.entries += summary["entries"]
        report.partitions_run += len(partitions)
    return report


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
