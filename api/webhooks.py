"""Webhook delivery: Celery tasks that turn state transitions into signed HTTP POSTs, with retries.

:func:`dispatch_webhooks` collects the outbox events (:func:`core.channels.webhooks.collect_events`) and
delivers every due one, each claimed just before it is sent (so dispatches running at once, on several
workers, send disjoint events), each subscription's one at a time and in order, several subscriptions at once,
until nothing is due: throughput follows the backlog rather than a fixed batch per run. Celery beat runs it
every :data:`BEAT_SECONDS` so changes made elsewhere (the admin, end-of-day) are heard too. After the API
commits a write while there is work (an active subscription or a due event, asked inside the write's
transaction), :func:`after_write` wakes this app's :class:`Dispatcher`, a background thread that runs the
dispatcher (eager Celery, the embedded default) or hands it to the workers, at most once a second: the request
returns without waiting on a receiver, a broker or the outbox's own writes, and delivery reads only what was
committed. Each event is sent with ``LoanFactory-Signature: t=<unix time>,v1=<HMAC-SHA256>`` to the
subscription's vetted address (:mod:`core.channels.targets`: public addresses only, no redirects followed); a
non-2xx answer, no answer or a refused address makes it due again after an exponential backoff, and the first
dispatch after that sends it again, until the event is given up. The dispatch is one message, not one per
event: a message per due event, sent by every dispatch until a worker took it, flooded the queue under load
and the end-of-day's partitions waited behind it. Neither task keeps a result: nobody reads it, and a sender
expecting one subscribes to the result backend for each message (with Redis away, that subscription failed).

Settings: ``API_WEBHOOKS_ENABLED`` (default true), ``API_WEBHOOKS_ALLOW_HTTP`` (plain ``http://`` receivers;
default false, true in demo mode), ``API_WEBHOOKS_ALLOW_LOOPBACK`` (receivers on this machine, for tests and
a demo's local receiver; default false).

Tasks use a session of their own, never the request's.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from flask import Flask, current_app
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.channels import targets, webhooks
from core.channels.targets import DeliveryOutcome, TargetPolicy, UnsafeTargetError
from core.db.base import make_session_factory
from loanfactory.database import get_db

BEAT_SECONDS = 30
#: how long one dispatch keeps sending before it leaves the rest to the next, and how many subscriptions it
#: serves at once (each subscription's events go one at a time, in order)
DISPATCH_BUDGET_SECONDS = 25.0
PARALLEL_SUBSCRIPTIONS = 8
TIMEOUT_SECONDS = 5
USER_AGENT = "LoanFactory-Webhooks/1"
EXTENSION = "loanfactory.webhooks"
#: seconds between two dispatches a process sends to the workers, and after one the broker refused
DISPATCH_SECONDS = 1.0
BROKER_PAUSE_SECONDS = 5.0

logger = logging.getLogger(__name__)


@contextmanager
def _own_session() -> Iterator[Session]:
    session = make_session_factory(get_db().engine)()
    try:
        yield session
    finally:
        session.close()


def _eager() -> bool:
    celery = current_app.extensions.get("celery")
    return bool(celery and celery.conf.task_always_eager)


def target_policy() -> TargetPolicy:
    """The receivers this app may send to beyond public ``https://`` ones (its ``API_WEBHOOKS_ALLOW_*``)."""
    config = current_app.config
    return TargetPolicy(allow_http=bool(config.get("API_WEBHOOKS_ALLOW_HTTP", config.get("DEMO", False))),
                        allow_loopback=bool(config.get("API_WEBHOOKS_ALLOW_LOOPBACK", False)))


def post_event(url: str, secret: str, payload: dict[str, Any], policy: TargetPolicy) -> DeliveryOutcome:
    """POST ``payload`` signed with ``secret`` to ``url``'s vetted address; what came of it."""
    try:
        target = targets.vet_url(url, policy)
    except UnsafeTargetError:
        return DeliveryOutcome("address_refused")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    signature = webhooks.signature_header(secret, int(time.time()), body)
    return targets.post(target, body, {
        "Content-Type": "application/json", "User-Agent": USER_AGENT, "LoanFactory-Signature": signature,
        "LoanFactory-Event": str(payload["type"]), "LoanFactory-Delivery": str(payload["id"])}, TIMEOUT_SECONDS)


def _deliver(event_id: int) -> tuple[bool, int | None]:
    """Try one event; whether this call took it, and the seconds until its retry (``None``: delivered, given
    up, or not taken: not due, held by another dispatcher, or behind an older event).

    Three steps, no transaction open while the receiver answers: claim the event and read what to send
    (committed), send, record the outcome (committed)."""
    with _own_session() as session:
        event = webhooks.claim(session, event_id)
        if event is None:
            session.rollback()
            return False, None
        subscription = session.get(webhooks.WebhookSubscription, event.subscription_id)
        if subscription is None or not subscription.active:
            event.status = "cancelled"
            session.commit()
            return True, None
        url, secret, payload = subscription.url, subscription.secret, webhooks.envelope(event)
        session.commit()
    outcome = post_event(url, secret, payload, target_policy())
    with _own_session() as session:
        delay = webhooks.record_attempt(session, event_id, outcome)
        session.commit()
    return True, delay


@shared_task(name="loanfactory.api.deliver_webhook", acks_late=True,
             ignore_result=True)  # type: ignore[untyped-decorator]
def deliver_webhook(event_id: int) -> None:
    """Deliver one event (a failure leaves it pending, due again after its backoff). The dispatcher delivers
    inline; this task delivers one event on its own."""
    _deliver(event_id)


def _drain(app: Flask, subscription_id: int, deadline: float) -> int:
    """Send ``subscription_id``'s due events in order until none is due, one fails (the rest wait behind it)
    or ``deadline`` passes; how many were attempted."""
    attempted = 0
    with app.app_context():
        while time.monotonic() < deadline:
            with _own_session() as session:
                event_id = webhooks.next_due(session, subscription_id)
                session.rollback()
            if event_id is None:
                break
            taken, retry_in = _deliver(event_id)
            attempted += taken
            if not taken or retry_in is not None:
                break  # another dispatcher sends this subscription's events, or they wait behind a failure
    return attempted


@shared_task(name="loanfactory.api.dispatch_webhooks", ignore_result=True)  # type: ignore[untyped-decorator]
def dispatch_webhooks() -> int:
    """Collect new events from the state transitions and send every due one, each subscription's in order and
    up to :data:`PARALLEL_SUBSCRIPTIONS` subscriptions at once, until nothing is due or
    :data:`DISPATCH_BUDGET_SECONDS` have passed (the next dispatch goes on); return how many were attempted."""
    with get_db().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not webhooks.has_work(connection):  # one statement, no transaction around it
            return 0
    with _own_session() as session:
        webhooks.collect_events(session)
        session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    parallel = 1 if get_db().engine.dialect.name == "sqlite" else PARALLEL_SUBSCRIPTIONS
    deadline = time.monotonic() + DISPATCH_BUDGET_SECONDS
    attempted = 0
    with ThreadPoolExecutor(parallel, thread_name_prefix="loanfactory-webhook") as pool:
        while time.monotonic() < deadline:
            with _own_session() as session:
                due = webhooks.due_subscriptions(session)
                session.rollback()
            sent = sum(pool.map(lambda subscription: _drain(app, subscription, deadline), due))
            attempted += sent
            if not sent:
                break
    return attempted


class Dispatcher:
    """One app's background dispatcher: a thread woken after the API commits a write with webhook work.

    Wakes that come while it runs fold into one more run; the thread ends when no wake is left, and the next
    wake starts another. A run that fails (the database busy, the broker down) is logged: the events stay in
    the outbox for the next run or Celery beat's. With workers, the thread sends at most one dispatch every
    :data:`DISPATCH_SECONDS`, and waits :data:`BROKER_PAUSE_SECONDS` after the broker refused one (the client
    is not asked to retry: the next wake, or beat, sends another): a dispatch per write outgrew what workers
    drain under load.
    """

    def __init__(self, app: Flask, sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self._sleep = sleep
        self._lock = threading.Condition()
        self._wanted = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Ask for a run after this moment's commits; never waits."""
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loanfactory-webhooks", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no run is going or wanted (tests, and a command that must not leave events behind);
        whether it got there within ``timeout`` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: self._thread is None, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    self._lock.notify_all()
                    return
                self._wanted = False
            pause = 0.0
            try:
                with self.app.app_context():
                    if _eager():
                        dispatch_webhooks.run()
                    else:
                        pause = BROKER_PAUSE_SECONDS  # unless the broker takes the message
                        dispatch_webhooks.apply_async(retry=False)
                        pause = DISPATCH_SECONDS
            except Exception:
                logger.exception("webhook dispatch failed; the events wait in the outbox for the next one")
            if pause:
                self._sleep(pause)


def dispatcher(app: Flask | None = None) -> Dispatcher:
    """``app``'s (default: the current app's) :class:`Dispatcher`."""
    found: Dispatcher = (app or current_app).extensions[EXTENSION]
    return found


def dispatch_wanted(session: Session) -> bool:
    """Whether to run the dispatcher once this write commits: webhooks are on and
    :func:`~core.channels.webhooks.has_work` says yes. Asked in the write's own transaction, just before
    its commit, on the connection it holds already (the write's own new subscription counts)."""
    return bool(current_app.config.get("API_WEBHOOKS_ENABLED", True)) and webhooks.has_work(session)


def dispatch_question() -> tuple[Select[tuple[bool]], dict[str, Any]] | None:
    """What :func:`dispatch_wanted` asks, for a caller that folds it into its last statement before the commit;
    ``None`` when webhooks are off."""
    return webhooks.has_work_query() if current_app.config.get("API_WEBHOOKS_ENABLED", True) else None


def after_write() -> None:
    """Called by the API after it commits a write that :func:`dispatch_wanted`: wake the background
    :class:`Dispatcher` (the request does not wait for it)."""
    dispatcher().wake()


def init_webhooks(app: Flask) -> None:
    """Schedule the dispatcher with Celery beat (production) and register the tasks."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-webhooks"] = {"task": "loanfactory.api.dispatch_webhooks", "schedule": float(BEAT_SECONDS)}
    celery.conf.beat_schedule = schedule
    app.extensions[EXTENSION] = Dispatcher(app)
