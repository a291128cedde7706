"""Webhook delivery: Celery tasks that turn state transitions into signed HTTP POSTs, with retries.

:func:`dispatch_webhooks` collects the outbox events (:func:`core.channels.webhooks.collect_events`)
and delivers the due ones; the API asks for it after a write it commits when there is work (an active
subscription or a due event, asked inside the write's transaction), at most once a second from each process
(:func:`after_write`), and Celery beat runs it every :data:`BEAT_SECONDS` so changes made elsewhere (the
admin, end-of-day) are heard too. :func:`deliver_webhook` POSTs one event with ``LoanFactory-Signature:
t=<unix time>,v1=<HMAC-SHA256>``; a non-2xx answer or a network error makes the event due again after an
exponential backoff, and the first dispatch after that sends it again, until the event is given up. On
workers the dispatcher hands each due event to the queue once (:func:`core.channels.webhooks.hand_out`
leases it), so a dispatch per write never floods the queue with the same deliveries, and a delivery lost
with its message (a worker killed, Redis restarted empty) is sent again when its lease ends. Neither task
keeps a result: nobody reads it, and a sender that expects one subscribes to the result backend for each
message it sends (with Redis away, that subscription fails the request that sent it).

Tasks use a session of their own, never the request's.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from flask import Flask, current_app
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.channels import webhooks
from core.db.base import make_session_factory
from core.db.outage import unavailable
from loanfactory.database import get_db

BEAT_SECONDS = 30
TIMEOUT_SECONDS = 5
USER_AGENT = "LoanFactory-Webhooks/1"
#: seconds between two dispatches a process sends, and after one the broker refused (:func:`after_write`)
DISPATCH_SECONDS = 1.0
BROKER_PAUSE_SECONDS = 5.0
#: when (``time.monotonic()``) the last dispatch this process sent runs, or the broker's pause ends
_dispatch_at = -DISPATCH_SECONDS
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


def after_write() -> None:
    """Called by the API after it commits a write that :func:`dispatch_wanted`: hand the new transitions to
    the dispatcher.

    Eager Celery (the embedded default) runs the dispatcher's body in the request's own app context: going
    through ``delay()`` would only add Celery's tracing and a second app context around the same call.

    On workers, each process sends at most one dispatch a second: a write made while a dispatch is queued to
    run after it sends none (that dispatch will see it), and otherwise the dispatch is sent to run a second
    after the last one (``countdown``). Every write asking for its own dispatch made the queue grow faster
    than workers drain it under load, and a partition's end-of-day task waited behind the dispatches.

    The write is committed already, so a dispatcher that cannot start (the broker away, the database away
    under an eager dispatch) is logged and left: nothing is lost, the transitions wait in the outbox for the
    next write's dispatch or Celery beat's, and the client gets the answer its committed write earned. Finding
    the broker away costs a request most of a second (the client's connection attempts), so after a failure
    this process sends no dispatch for :data:`BROKER_PAUSE_SECONDS`.
    """
    global _dispatch_at
    eager, now = _eager(), time.monotonic()
    if not eager and now < _dispatch_at:
        return
    at = max(now, _dispatch_at + DISPATCH_SECONDS)
    try:
        if eager:
            dispatch_webhooks.run()
        else:
            dispatch_webhooks.apply_async(retry=False, countdown=round(at - now, 3) or None)
            _dispatch_at = at
    except Exception as error:
        if not (unavailable(error) or isinstance(error, (BrokerUnavailable, OSError))):
            raise
        if not eager:
            _dispatch_at = now + BROKER_PAUSE_SECONDS
        logger.warning("webhook dispatch not started (%s); the next write or Celery beat's run collects the events",
                       error)


def init_webhooks(app: Flask) -> None:
    """Schedule the dispatcher with Celery beat (production) and register the tasks."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-webhooks"] = {"task": "loanfactory.api.dispatch_webhooks", "schedule": float(BEAT_SECONDS)}
    celery.conf.beat_schedule = schedule
