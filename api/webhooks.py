"""Webhook delivery: Celery tasks that turn state transitions into signed HTTP POSTs, with retries.

:func:`dispatch_webhooks` collects the outbox events (:func:`core.channels.webhooks.collect_events`)
and delivers the due ones; the API asks for it after a write it commits when there is work (an active
subscription or a due event, asked inside the write's transaction), sent from a thread at most once a second
from each process (:class:`DispatchSender`), and Celery beat runs it every :data:`BEAT_SECONDS` so changes
made elsewhere (the admin, end-of-day) are heard too. :func:`deliver_webhook` POSTs one event with
``LoanFactory-Signature: t=<unix time>,v1=<HMAC-SHA256>``; a non-2xx answer or a network error makes the
event due again after an exponential backoff, and the first dispatch after that sends it again, until the
event is given up. On workers the dispatcher hands each due event to the queue once
(:func:`core.channels.webhooks.hand_out` leases it), so dispatches never flood the queue with the same
deliveries, and a delivery lost with its message (a worker killed, Redis restarted empty) is sent again
when its lease ends. Neither task keeps a result: nobody reads it, and a sender that expects one subscribes
to the result backend for each message it sends (with Redis away, that subscription fails the request that
sent it).

Tasks use a session of their own, never the request's.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from flask import Flask, current_app
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.channels import webhooks
from core.db.base import make_session_factory
from core.db.outage import unavailable
from loanfactory.database import get_db

BEAT_SECONDS = 30
TIMEOUT_SECONDS = 5
USER_AGENT = "LoanFactory-Webhooks/1"
#: seconds between two dispatches a process sends, and after one the broker refused (:class:`DispatchSender`)
DISPATCH_SECONDS = 1.0
BROKER_PAUSE_SECONDS = 5.0
#: ``app.extensions`` key of the app's :class:`DispatchSender`
SENDER = "loanfactory.webhook_sender"
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


def post_event(url: str, secret: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` signed with ``secret``; raise ``OSError`` unless the receiver answers 2xx."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    signature = webhooks.signature_header(secret, int(time.time()), body)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, "LoanFactory-Signature": signature,
        "LoanFactory-Event": str(payload["type"]), "LoanFactory-Delivery": str(payload["id"])})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise OSError(f"HTTP {error.code} from {url}") from None
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status} from {url}")


def _deliver(session: Session, event_id: int) -> int | None:
    """Try one event; return the seconds until its retry, or ``None`` (delivered, given up or not due)."""
    event = session.get(webhooks.WebhookEvent, event_id, with_for_update=True)
    if event is None or event.status != "pending":
        return None
    subscription = session.get(webhooks.WebhookSubscription, event.subscription_id)
    if subscription is None or not subscription.active:
        event.status = "cancelled"
        session.commit()
        return None
    try:
        post_event(subscription.url, subscription.secret, webhooks.envelope(event))
    except OSError as error:
        delay = webhooks.mark_failed(event, str(error))
        session.commit()
        return delay
    webhooks.mark_delivered(event)
    session.commit()
    return None


@shared_task(name="loanfactory.api.deliver_webhook", acks_late=True,
             ignore_result=True)  # type: ignore[untyped-decorator]
def deliver_webhook(event_id: int) -> None:
    """Deliver one event; a failure leaves it pending, due again after its backoff."""
    with _own_session() as session:
        _deliver(session, event_id)


@shared_task(name="loanfactory.api.dispatch_webhooks", ignore_result=True)  # type: ignore[untyped-decorator]
def dispatch_webhooks() -> int:
    """Collect new events from the state transitions and deliver the due ones (inline when eager, through the
    queue otherwise); return how many were due."""
    with get_db().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not webhooks.has_work(connection):  # one statement, no transaction around it
            return 0
    eager = _eager()
    with _own_session() as session:
        webhooks.collect_events(session)
        due = [event.id for event in webhooks.due_events(session)] if eager else webhooks.hand_out(session)
        session.commit()
    for event_id in due:
        if eager:
            with _own_session() as session:
                _deliver(session, event_id)
        else:
            deliver_webhook.delay(event_id)
    return len(due)


def dispatch_wanted(session: Session) -> bool:
    """Whether to run the dispatcher once this write commits: webhooks are on and
    :func:`~core.channels.webhooks.has_work` says yes. Asked in the write's own transaction, just before
    its commit, on the connection it holds already (the write's own new subscription counts)."""
    return bool(current_app.config.get("API_WEBHOOKS_ENABLED", True)) and webhooks.has_work(session)


def dispatch_question() -> tuple[Select[tuple[bool]], dict[str, Any]] | None:
    """What :func:`dispatch_wanted` asks, for a caller that folds it into its last statement before the commit;
    ``None`` when webhooks are off."""
    return webhooks.has_work_query() if current_app.config.get("API_WEBHOOKS_ENABLED", True) else None


class DispatchSender:
    """Sends the dispatcher's message to the broker from a thread of this process, so that no request waits on
    the broker.

    A write that wants a dispatch calls :meth:`ask` and returns at once; the thread sends one message for every
    write that asked since its last one, then waits :data:`DISPATCH_SECONDS` (so a busy process sends one a
    second, and a write's events leave at most a second after it), or :data:`BROKER_PAUSE_SECONDS` after the
    broker refused the message (the write's transitions wait in the outbox for the next dispatch; Celery beat
    sends one too). Sent from the request, a message per write outgrew what workers drain under load, and with
    Redis away each send held its request for seconds while the client library retried. The thread starts
    with the first :meth:`ask` in each process (a forked child starts its own).
    """

    def __init__(self, send: Callable[[], object], *, thread: bool = True) -> None:
        self._send = send
        self._asked = threading.Event()
        self._thread = thread
        self._pid: int | None = None
        self._starting = threading.Lock()

    def ask(self) -> None:
        """Have a dispatch sent soon for the write just committed."""
        self._asked.set()
        if self._thread and self._pid != os.getpid():
            with self._starting:
                if self._pid != os.getpid():
                    threading.Thread(target=self._run, name="webhook-dispatch-sender", daemon=True).start()
                    self._pid = os.getpid()

    def send_once(self) -> float:
        """Send one message for the writes that asked (none when none did); return the seconds to wait."""
        if not self._asked.is_set():
            return 0.0
        self._asked.clear()
        try:
            self._send()
        except Exception as error:  # the thread must live on: whatever the broker raised, try again later
            logger.warning("webhook dispatch not sent (%s); the next one or Celery beat's collects the events",
                           error)
            return BROKER_PAUSE_SECONDS
        return DISPATCH_SECONDS

    def _run(self) -> None:
        while True:
            self._asked.wait()
            time.sleep(self.send_once())


def after_write() -> None:
    """Called by the API after it commits a write that :func:`dispatch_wanted`: hand the new transitions to
    the dispatcher.

    Eager Celery (the embedded default) runs the dispatcher's body in the request's own app context: going
    through ``delay()`` would only add Celery's tracing and a second app context around the same call. The
    write is committed already, so a dispatch that meets the database away is logged and left: the
    transitions wait in the outbox for the next one, and the client gets the answer its write earned. With
    workers, the app's :class:`DispatchSender` sends the message.
    """
    if not _eager():
        current_app.extensions[SENDER].ask()
        return
    try:
        dispatch_webhooks.run()
    except Exception as error:
        if not unavailable(error):
            raise
        logger.warning("webhook dispatch failed after the commit (%s); the next write collects the events", error)


def init_webhooks(app: Flask) -> None:
    """Schedule the dispatcher with Celery beat (production) and register the tasks."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-webhooks"] = {"task": "loanfactory.api.dispatch_webhooks", "schedule": float(BEAT_SECONDS)}
    celery.conf.beat_schedule = schedule
    app.extensions[SENDER] = DispatchSender(lambda: celery.send_task(
        "loanfactory.api.dispatch_webhooks", retry=False, ignore_result=True))
