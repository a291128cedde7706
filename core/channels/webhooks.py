"""Webhooks: channels subscribe a URL and receive an HMAC-signed event for every state change.

The source of events is the ``state_transitions`` table (:mod:`core.states`), which every state change
writes, whoever makes it (the API, an operator in the admin, the end-of-day batch). :func:`collect_events`
reads the transitions after a cursor, finds the channel of each application, loan or credit line (the
channel that applied for it), and writes one
:class:`WebhookEvent` per matching subscription (the outbox). Transactions commit out of id order, so
the cursor only moves past transitions older than :data:`SETTLE_SECONDS`; the window behind it is read
again, whole, at every run (a batch of :data:`BATCH` at a time) and the unique ``(subscription_id,
transition_id)`` pair keeps each event single.

A subscription's URL must lead to public addresses only (:mod:`core.channels.targets`), checked when it is
made and again at every delivery. Delivery (an HTTP POST, done by the caller, never inside a request's
transaction) first takes a due event with :func:`claim`, in a transaction of its own that moves the event's
next attempt a lease ahead: no other dispatcher takes it meanwhile, and one that dies mid-attempt leaves it
to be retried when the lease ends (delivery is at least once). The caller then sends with no transaction
open and reports the :class:`~core.channels.targets.DeliveryOutcome` through :func:`record_attempt`.

Order: each subscription's events are sent one at a time, oldest first (by event id: the order in which the
changes were collected, which for one application or loan is the order they happened). Only a
subscription's oldest pending event can be claimed, so a later one waits while an earlier one is in flight
or backing off after a failure, until it is delivered or given up.
Failures back off exponentially (:func:`backoff_seconds`) and an event is given up after
:data:`MAX_ATTEMPTS`; ``last_error`` keeps the outcome's status only (``http_503``, ``no_answer``,
``address_refused``), never the socket's words. :func:`signature_header` is what a receiver verifies:
HMAC-SHA256 over ``"<timestamp>.<body>"`` with the subscription's secret.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from core.applications.models import Application
from core.channels.targets import DeliveryOutcome, TargetPolicy, vet_url
from core.credit_lines.models import CreditLine
from core.db.base import Base
from core.debits.models import DebitInstruction
from core.errors import InvalidArgumentError
from core.loans.models import Loan
from core.origination.errors import NotFoundError
from core.states import StateTransition

SETTLE_SECONDS = 60
MAX_ATTEMPTS = 10
#: how long a claimed event is left to its dispatcher (longer than a delivery's timeout)
LEASE_SECONDS = 60
BATCH = 1000
CURSOR_NAME = "webhooks"


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookSubscription(Base):
    """A channel's URL and the event types it wants (``application.*``, ``loan.overdue``, ``*``)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(60), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    def wants(self, event_type: str) -> bool:
        """Whether ``event_type`` matches one of this subscription's patterns."""
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.events)


class WebhookEvent(Base):
    """One event to deliver to one subscription: pending, then delivered or failed after the retries."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("subscription_id", "transition_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    transition_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WebhookCursor(Base):
    """How far :func:`collect_events` has read ``state_transitions`` for good."""

    __tablename__ = "webhook_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_transition_id: Mapped[int] = mapped_column(BigInteger, default=0)


#: the longest URL and event pattern of a subscription (its column's and the document's limits)
MAX_URL, MAX_EVENT = 500, 80


def subscribe(session: Session, channel: str, url: str, events: Iterable[str], *,
              policy: TargetPolicy) -> WebhookSubscription:
    """Register ``url`` for ``channel``'s events; the returned row carries the signing secret.

    Raises:
        UnsafeTargetError: the URL is not one ``policy`` lets the system send to (see
            :func:`core.channels.targets.vet_url`).
        InvalidArgumentError: the URL is longer than :data:`MAX_URL`, or ``events`` is empty or names a
            pattern longer than :data:`MAX_EVENT`.
    """
    if len(url or "") > MAX_URL:
        raise InvalidArgumentError(f"url: at most {MAX_URL} characters", field="url", value=url)
    vet_url(url, policy)
    patterns = [e.strip() for e in events if isinstance(e, str) and e.strip()]
    if not patterns:
        raise InvalidArgumentError("events: name at least one event type or pattern ('*' for all)",
                                   field="events", value=list(events))
    if any(len(pattern) > MAX_EVENT for pattern in patterns):
        raise InvalidArgumentError(f"events: each at most {MAX_EVENT} characters", field="events", value=patterns)
    subscription = WebhookSubscription(channel=channel, url=url, events=patterns, secret=secrets.token_hex(32),
                                       active=True)
    session.add(subscription)
    session.flush()
    return subscription


def subscription_of(session: Session, channel: str, subscription_id: int) -> WebhookSubscription:
    """``channel``'s subscription, or :class:`NotFoundError` (another channel's is not found either)."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.channel != channel:
        raise NotFoundError(f"webhook subscription {subscription_id} not found", field="id", value=subscription_id)
    return subscription


def _channels_of(session: Session, transitions: list[StateTransition]) -> dict[tuple[str, int], str]:
    app_ids = {t.entity_id for t in transitions if t.entity_type == "application"}
    loan_ids = {t.entity_id for t in transitions if t.entity_type == "loan"}
    debit_ids = {t.entity_id for t in transitions if t.entity_type == "debit"}
    owners: dict[tuple[str, int], str] = {}
    if debit_ids:
        rows = session.execute(select(DebitInstruction.id, Application.channel)
                               .join(Loan, Loan.id == DebitInstruction.loan_id)
                               .join(Application, Application.id == Loan.application_id)
                               .where(DebitInstruction.id.in_(debit_ids)))
        owners.update({("debit", debit_id): channel for debit_id, channel in rows if channel})
    if loan_ids:
        rows = session.execute(select(Loan.id, Application.channel).join(
            Application, Application.id == Loan.application_id).where(Loan.id.in_(loan_ids)))
        owners.update({("loan", loan_id): channel for loan_id, channel in rows if channel})
    if app_ids:
        rows = session.execute(select(Application.id, Application.channel).where(Application.id.in_(app_ids)))
        owners.update({("application", app_id): channel for app_id, channel in rows if channel})
    line_ids = {t.entity_id for t in transitions if t.entity_type == "credit_line"}
    if line_ids:
        rows = session.execute(select(CreditLine.id, CreditLine.channel).where(CreditLine.id.in_(line_ids)))
        owners.update({("credit_line", line_id): channel for line_id, channel in rows})
    return owners


def event_payload(transition: StateTransition) -> dict[str, Any]:
    """The ``data`` of the event a transition makes (the envelope adds id, type and time)."""
    return {"entity": transition.entity_type, "id": transition.entity_id, "from": transition.from_state,
            "to": transition.to_state, "at": _aware(transition.at).isoformat(), "reason": transition.reason}


def _aware(at: datetime) -> datetime:
    """A stored time with its offset: a database without zones (SQLite) gives back UTC without it."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def collect_events(session: Session, now: datetime | None = None) -> list[WebhookEvent]:
    """Write the outbox events for the transitions since the cursor; return the new events.

    Nothing is written when no channel has an active subscription. Safe to run concurrently: the cursor
    row is locked (``FOR UPDATE``) for the run.
    """
    now = now or _now()
    subscriptions = list(session.scalars(select(WebhookSubscription).where(WebhookSubscription.active)))
    if not subscriptions:
        return []
    cursor = session.get(WebhookCursor, CURSOR_NAME, with_for_update=True)
    if cursor is None:
        cursor = WebhookCursor(name=CURSOR_NAME, last_transition_id=0)
        session.add(cursor)
        session.flush()
    by_channel: dict[str, list[WebhookSubscription]] = {}
    for subscription in subscriptions:
        by_channel.setdefault(subscription.channel, []).append(subscription)
    created: list[WebhookEvent] = []
    settled = now - timedelta(seconds=SETTLE_SECONDS)
    read_after = new_cursor = cursor.last_transition_id
    advancing = True
    while True:  # the whole window after the cursor, a batch at a time
        transitions = list(session.scalars(select(StateTransition).where(
            StateTransition.id > read_after).order_by(StateTransition.id).limit(BATCH)))
        if not transitions:
            break
        owners = _channels_of(session, transitions)
        seen = set(session.execute(select(WebhookEvent.subscription_id, WebhookEvent.transition_id).where(
            WebhookEvent.transition_id.in_([t.id for t in transitions]))).tuples())
        for transition in transitions:
            at = transition.at if transition.at.tzinfo else transition.at.replace(tzinfo=UTC)
            advancing = advancing and at <= settled
            if advancing:
                new_cursor = transition.id
            channel = owners.get((transition.entity_type, transition.entity_id))
            event_type = f"{transition.entity_type}.{transition.to_state}"
            for subscription in by_channel.get(channel or "", []):
                if (subscription.id, transition.id) in seen or not subscription.wants(event_type):
                    continue
                event = WebhookEvent(subscription_id=subscription.id, transition_id=transition.id,
                                     event_type=event_type, payload=event_payload(transition), status="pending",
                                     attempts=0, next_attempt_at=now)
                session.add(event)
                created.append(event)
        if len(transitions) < BATCH:
            break
        read_after = transitions[-1].id
        session.flush()
    cursor.last_transition_id = new_cursor
    session.flush()
    return created


_SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
_EVENTS = cast(Table, WebhookEvent.__table__)
#: asked before every API write commits: a Core statement built once (building it cost more than running it)
_HAS_WORK = select(or_(
    select(_SUBSCRIPTIONS.c.id).where(_SUBSCRIPTIONS.c.active).exists(),
    select(_EVENTS.c.id).where(_EVENTS.c.status == "pending", _EVENTS.c.next_attempt_at <= bindparam("now")).exists()))


def has_work(session: Session | Connection, now: datetime | None = None) -> bool:
    """Whether a dispatch has anything to do: an active subscription (transitions may become events) or a
    pending event that is due. One query (a session's, or a bare connection's outside any transaction); a
    dispatcher with nothing to do stops there."""
    query, parameters = has_work_query(now)
    return bool(session.scalar(query, parameters))


def has_work_query(now: datetime | None = None) -> tuple[Select[tuple[bool]], dict[str, Any]]:
    """The query :func:`has_work` runs and its parameters, for a caller that asks it inside a statement of its
    own (the API, in the statement that stores an idempotent response)."""
    return _HAS_WORK, {"now": now or _now()}


def _head_ids() -> Select[tuple[int]]:
    """The oldest pending event of each subscription: the only one that may be sent (in-order delivery)."""
    return select(func.min(WebhookEvent.id)).where(WebhookEvent.status == "pending").group_by(
        WebhookEvent.subscription_id)


def due_subscriptions(session: Session, now: datetime | None = None) -> list[int]:
    """The subscriptions whose oldest pending event is due (not waiting for its backoff, not being sent)."""
    return list(session.scalars(select(WebhookEvent.subscription_id).where(
        WebhookEvent.id.in_(_head_ids()), WebhookEvent.next_attempt_at <= (now or _now()))
        .order_by(WebhookEvent.id)))


def next_due(session: Session, subscription_id: int, now: datetime | None = None) -> int | None:
    """The id of ``subscription_id``'s oldest pending event if it is due, else ``None``."""
    head = session.execute(select(WebhookEvent.id, WebhookEvent.next_attempt_at).where(
        WebhookEvent.subscription_id == subscription_id, WebhookEvent.status == "pending")
        .order_by(WebhookEvent.id).limit(1)).first()
    if head is None:
        return None
    due = head.next_attempt_at if head.next_attempt_at.tzinfo else head.next_attempt_at.replace(tzinfo=UTC)
    return int(head.id) if due <= (now or _now()) else None


def backlog(session: Session) -> int:
    """How many events wait to be delivered (pending, due or not)."""
    return int(session.scalar(select(func.count()).select_from(WebhookEvent)
                              .where(WebhookEvent.status == "pending")) or 0)


def claim(session: Session, event_id: int, now: datetime | None = None) -> WebhookEvent | None:
    """Take the due, pending event ``event_id`` for one delivery attempt, or ``None`` when it is not (another
    dispatcher holds it, it is not due, it is settled, or an older event of its subscription is still
    pending: events are sent one at a time per subscription, in order). Its next attempt moves
    :data:`LEASE_SECONDS` ahead: the caller commits that before sending, so nothing is locked while the
    receiver answers."""
    now = now or _now()
    earlier = aliased(WebhookEvent)
    taken = session.execute(update(WebhookEvent).where(
        WebhookEvent.id == event_id, WebhookEvent.status == "pending", WebhookEvent.next_attempt_at <= now,
        ~select(earlier.id).where(earlier.subscription_id == WebhookEvent.subscription_id,
                                  earlier.status == "pending", earlier.id < WebhookEvent.id).exists(),
    ).values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)).execution_options(synchronize_session=False))
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return session.get(WebhookEvent, event_id, populate_existing=True)


def record_attempt(session: Session, event_id: int, outcome: DeliveryOutcome,
                   now: datetime | None = None) -> int | None:
    """Record a claimed event's attempt; return the seconds until the next one (``None``: delivered, given up,
    or settled meanwhile)."""
    event = session.get(WebhookEvent, event_id, populate_existing=True)
    if event is None or event.status != "pending":
        return None
    if outcome.delivered:
        mark_delivered(event, now)
        return None
    return mark_failed(event, outcome.status, now)


def shown_error(event: WebhookEvent) -> str | None:
    """What a channel is told of the last failed attempt: the outcome's status, nothing of the socket's words
    (an event failed before statuses were kept shows ``no_answer``)."""
    error = event.last_error
    if error is None or error in ("no_answer", "address_refused") or (
            error.startswith("http_") and error[5:].isdigit()):
        return error
    return "no_answer"


def envelope(event: WebhookEvent) -> dict[str, Any]:
    """The JSON body a receiver gets."""
    return {"id": event.id, "type": event.event_type, "created_at": _aware(event.created_at).isoformat(),
            "data": event.payload}


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: what ``LoanFactory-Signature`` carries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` is a valid signature of ``body`` under ``secret`` (for receivers and tests)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    expected = signature_header(secret, timestamp, body)
    return hmac.compare_digest(expected, header.replace(" ", ""))


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: 10 s doubling to at most an hour."""
    return int(min(10 * 2 ** max(attempts - 1, 0), 3600))


def mark_delivered(event: WebhookEvent, now: datetime | None = None) -> None:
    """Record a 2xx answer from the receiver."""
    event.attempts += 1
    event.status = "delivered"
    event.delivered_at = now or _now()
    event.last_error = None


def mark_failed(event: WebhookEvent, error: str, now: datetime | None = None) -> int | None:
    """Record a failed attempt (``error``: the :class:`~core.channels.targets.DeliveryOutcome`'s status); return
    the seconds until the next one, or ``None`` when given up."""
    now = now or _now()
    event.attempts += 1
    event.last_error = error[:2000]
    if event.attempts >= MAX_ATTEMPTS:
        event.status = "failed"
        return None
    delay = backoff_seconds(event.attempts)
    event.next_attempt_at = now + timedelta(seconds=delay)
    return delay
