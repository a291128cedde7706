"""Webhook delivery: Celery tasks that turn state transitions into signed HTTP POSTs, with retries.

:func:`dispatch_webhooks` collects the outbox events (:func:`core.channels.webhooks.collect_events`)
and delivers the due ones; the API runs it after a write it commits when there is work (an active
subscription or a due event, asked inside the write's transaction), and Celery beat runs it every
:data:`BEAT_SECONDS` so changes made elsewhere (the admin, end-of-day) are heard too. :func:`deliver_webhook`
POSTs one event with ``LoanFactory-Signature: t=<unix time>,v1=<HMAC-SHA256>``; a non-2xx answer or a
network error schedules a retry with exponential backoff (``countdown``) until the event is given up.
In the embedded default (eager Celery) retries are not run inline: the next dispatch sends what is due.

Tasks use a session of their own, never the request's.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from flask import Flask, current_app
from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.channels import webhooks
from core.db.base import make_session_factory
from loanfactory.database import get_db

BEAT_SECONDS = 30
TIMEOUT_SECONDS = 5
USER_AGENT = "LoanFactory-Webhooks/1"


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


@shared_task(bind=True, name="loanfactory.api.deliver_webhook", max_retries=webhooks.MAX_ATTEMPTS,
             acks_late=True)  # type: ignore[untyped-decorator]
def deliver_webhook(self: Any, event_id: int) -> None:
    """Deliver one event; on failure retry after the backoff (workers only)."""
    with _own_session() as session:
        delay = _deliver(session, event_id)
    if delay is not None and not _eager():
        raise self.retry(countdown=delay)


@shared_task(name="loanfactory.api.dispatch_webhooks")  # type: ignore[untyped-decorator]
def dispatch_webhooks() -> int:
    """Collect new events from the state transitions and deliver the due ones; return how many were due."""
    with get_db().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not webhooks.has_work(connection):  # one statement, no transaction around it
            return 0
    with _own_session() as session:
        webhooks.collect_events(session)
        session.commit()
        due = [event.id for event in webhooks.due_events(session)]
    for event_id in due:
        if _eager():
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
    """
    if _eager():
        dispatch_webhooks.run()
    else:
        dispatch_webhooks.delay()


def init_webhooks(app: Flask) -> None:
    """Schedule the dispatcher with Celery beat (production) and register the tasks."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-webhooks"] = {"task": "loanfactory.api.dispatch_webhooks", "schedule": float(BEAT_SECONDS)}
    celery.conf.beat_schedule = schedule
