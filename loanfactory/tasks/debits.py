"""The due run (代扣日批) as a Celery job on beat, and in process for the embedded default.

One run, for the business date and the local hour (the lender's zone) it is made at:

1. plan: :func:`core.debits.planning.plan_instructions` writes the instructions whose time has come, and commits;
2. send: batches are claimed and sent (:mod:`core.debits.dispatch`), each claim and each send committed on its
   own, by as many workers as there are (a Celery task per batch, or ``workers`` local processes);
3. query: instructions with no answer after their product's ``query_after_minutes`` are asked after;
4. messages: the day's borrower messages are planned (:mod:`core.messages.planning`) and what is due is sent
   within the window and the daily cap (:mod:`core.messages.sending`).

Answers that arrive later come by the payment callback (``/api/v1/callbacks/payments/<plugin>``).

Production: beat starts the run every ``DEBIT_RUN_SECONDS`` (default 3600: each hour, so an attempt planned
for 15:00 leaves by 16:00) beside the workers: ``celery -A loanfactory.worker beat`` (one beat) and
``celery -A loanfactory.worker worker`` (any number); the run plans in one task and fans the batches out
as ``loanfactory.debits.send_batch`` tasks. The embedded default has no beat: ``loanfactory debits run``
makes one run (cron it hourly), in this process or ``--workers N`` local processes.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from celery import group, shared_task
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from core.db.base import make_session_factory
from core.debits.dispatch import claim_batch, query_silent, send_batch, sendable
from core.debits.planning import debiting_versions, plan_instructions
from core.messages.planning import plan_day
from core.messages.sending import send_due
from core.plugins.types import PluginFailure
from loanfactory import clock
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from loanfactory.settings import overpayment_multiple
from loanfactory.tasks.beat import schedule_every

RUN_TASK = "loanfactory.debits.due_run"
BATCH_TASK = "loanfactory.debits.send_batch"
DEFAULT_RUN_SECONDS = 3600


@dataclass
class DueRunReport:
    """What a run did: instructions written and skipped, batches and instructions sent, answers queried."""

    created: int = 0
    skipped: int = 0
    batches: int = 0
    sent: int = 0
    queried: int = 0
    messages_planned: int = 0
    messages_sent: int = 0
    failures: list[str] = field(default_factory=list)
    #: seconds each step took: plan, send, query, messages
    seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "skipped": self.skipped, "batches": self.batches, "sent": self.sent,
                "queried": self.queried, "messages_planned": self.messages_planned,
                "messages_sent": self.messages_sent, "failures": self.failures,
                "seconds": {step: round(value, 3) for step, value in self.seconds.items()}}


def _sessions() -> Any:
    return make_session_factory(get_db().engine)


def plan(on: date, hour: int, now: datetime) -> tuple[int, int]:
    """Step 1 in a transaction of its own: ``(created, skipped)``."""
    with _sessions()() as session:
        result = plan_instructions(session, on, hour, now)
        session.commit()
    return result.created, result.skipped


def send_one_batch(plugin: str, version_id: int, today: date, now: datetime) -> tuple[int, str | None]:
    """Claim and send the next batch of one channel and product version: ``(instructions sent, failure)``;
    ``(0, None)`` when nothing is waiting."""
    with _sessions()() as session:
        policies = debiting_versions(session)
        policy = policies.get(version_id)
        size, partial = (policy.batch_size, policy.partial) if policy else (500, False)
        claimed = claim_batch(session, plugin=plugin, version_id=version_id, size=size, allow_partial=partial,
                              now=now)
        session.commit()
        if claimed is None:
            return 0, None
        try:
            send_batch(session, get_plugins(), claimed, today=today, now=now,
                       overpayment_multiple=overpayment_multiple())
            session.commit()
        except (PluginFailure, SQLAlchemyError) as failure:  # the batch stays ``sending``: the next run resends it
            session.rollback()
            return 0, f"{claimed.batch_id}: {failure}"
    return len(claimed.instruction_ids), None


def query(today: date, now: datetime) -> int:
    """Step 3 in a transaction of its own: how many instructions an answer changed."""
    with _sessions()() as session:
        wait = {v: timedelta(minutes=p.query_after_minutes) for v, p in debiting_versions(session).items()}
        changed = query_silent(session, get_plugins(), wait=wait, today=today, now=now,
                               overpayment_multiple=overpayment_multiple())
        session.commit()
    return changed


def messages(on: date, now: datetime) -> tuple[int, int]:
    """Step 4: plan the day's borrower messages, then send what is due (batches of 500, a transaction each);
    ``(planned, sent)``."""
    with _sessions()() as session:
        planned = plan_day(session, on, now)
        session.commit()
        sent = 0
        while True:
            report = send_due(session, get_plugins(), now=now)
            session.commit()
            sent += report.sent
            if report.sent + report.failed + report.retrying + report.deferred == 0:
                return planned, sent


def _pending_pairs() -> list[tuple[str, int]]:
    with _sessions()() as session:
        return sendable(session)


def _drain(plugin: str, version_id: int, today: date, now: datetime) -> tuple[int, int, list[str]]:
    """Send batches of one channel and version until none is waiting (or the channel fails)."""
    batches = sent = 0
    while True:
        count, failure = send_one_batch(plugin, version_id, today, now)
        if failure is not None:
            return batches, sent, [failure]
        if not count:
            return batches, sent, []
        batches, sent = batches + 1, sent + count


_WORKER: dict[str, Any] = {}


def _worker_drain(plugin: str, version_id: int, today: str, now: str) -> tuple[int, int, list[str]]:
    app: Flask = _WORKER["app"]
    with app.app_context():
        return _drain(plugin, version_id, date.fromisoformat(today), datetime.fromisoformat(now))


def _forked() -> None:
    get_db(_WORKER["app"]).engine.dispose(close=False)


def run_locally(app: Flask, on: date, *, hour: int | None = None, now: datetime | None = None, workers: int = 1,
                progress: Callable[[str], None] | None = None) -> DueRunReport:
    """One due run in this process, or with ``workers`` local processes sending batches side by side."""
    now = now or clock.now().astimezone(clock.zone())
    hour = now.astimezone(clock.zone()).hour if hour is None else hour
    report = DueRunReport()
    began = time.perf_counter()
    with app.app_context():
        report.created, report.skipped = plan(on, hour, now)
        pairs = _pending_pairs()
    report.seconds["plan"] = time.perf_counter() - began
    if progress is not None:
        progress(f"planned {report.created} instruction(s), {report.skipped} skipped")
    jobs = [(plugin, version_id, on.isoformat(), now.isoformat()) for plugin, version_id in pairs
            for _ in range(max(workers, 1))]
    _WORKER["app"] = app
    if workers > 1 and jobs:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_forked) as pool:
            outcomes = list(pool.map(_worker_drain, *zip(*jobs, strict=True)))
    else:
        outcomes = [_worker_drain(*job) for job in jobs]
    for batches, sent, failures in outcomes:
        report.batches, report.sent = report.batches + batches, report.sent + sent
        report.failures.extend(failures)
    report.seconds["send"] = time.perf_counter() - began - report.seconds["plan"]
    with app.app_context():
        began = time.perf_counter()
        report.queried = query(on, now)
        report.seconds["query"] = time.perf_counter() - began
        report.messages_planned, report.messages_sent = messages(on, now)
        report.seconds["messages"] = time.perf_counter() - began - report.seconds["query"]
    return report


@shared_task(name=BATCH_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def send_batch_task(plugin: str, version_id: int, today: str, now: str) -> dict[str, Any]:
    """Send batches of one channel and version until none is left; safe to deliver twice (see the module)."""
    batches, sent, failures = _drain(plugin, version_id, date.fromisoformat(today), datetime.fromisoformat(now))
    return {"batches": batches, "sent": sent, "failures": failures}


@shared_task(name=RUN_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
def due_run_task(today: str | None = None, hour: int | None = None) -> dict[str, Any]:
    """Plan, fan the batches out to the workers (two tasks per channel and version), then ask after silent
    instructions and send the messages; the business date is the app's (``API_BUSINESS_DATE`` or today in
    Asia/Shanghai), the hour now's unless given (an operator re-running a missed hour)."""
    from loanfactory.clock import today as business_today

    now = clock.now().astimezone(clock.zone())
    on = date.fromisoformat(today) if today else business_today()
    created, skipped = plan(on, now.hour if hour is None else hour, now)
    pairs = _pending_pairs()
    if pairs:
        group(send_batch_task.si(p, v, on.isoformat(), now.isoformat()) for p, v in pairs for _ in range(2))()
    queried = query(on, now)
    planned, sent = messages(on, now)
    return {"created": created, "skipped": skipped, "channels": len(pairs), "queried": queried,
            "messages_planned": planned, "messages_sent": sent}


def schedule_due_run(app: Flask) -> None:
    """Put the due run on Celery beat's schedule every ``DEBIT_RUN_SECONDS`` (0: not)."""
    schedule_every(app, "loanfactory-debit-due-run", RUN_TASK, "DEBIT_RUN_SECONDS", DEFAULT_RUN_SECONDS)
