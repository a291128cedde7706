"""The audit log: who changed what, when, from what to what.

An :class:`AuditEvent` is appended by :func:`record` inside the caller's transaction, so the event and the
change it describes commit or roll back together; nothing here commits. ``before`` and ``after`` are JSON
snapshots built by the caller (each entity decides what it shows, and personal data goes in masked):
:func:`jsonable` turns ``Decimal`` into strings, dates into ISO text and enums into their values so the
snapshot is exact and portable. Events are never updated or deleted.

Dual control (maker-checker) for single operations that need a second person, such as waiving a penalty
or writing a loan off: the maker files a :class:`ChangeRequest` with :func:`request_change`; a different
user holding the approving permission decides it with :func:`decide_change`, which refuses the maker
(:class:`~core.backoffice.users.FourEyesError`) and a request already decided. The operation's own module
decides and carries an approved request out in the same transaction, so approval and effect commit
together (:func:`core.loans.adjustments.decide_adjustment` for waivers and write-offs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.backoffice.users import User, require, require_second_user
from core.db.base import Base
from core.errors import InvalidArgumentError, LoanFactoryError


class AuditEvent(Base):
    """One recorded change (or sensitive read, such as revealing personal data)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


def jsonable(value: Any) -> Any:
    """``value`` with every ``Decimal``, date, datetime, enum, set and tuple made JSON-safe, recursively."""
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    return value


def record(session: Session, *, actor: str, action: str, entity_type: str, entity_id: object,
           before: Any = None, after: Any = None, comment: str = "", at: datetime | None = None) -> AuditEvent:
    """Append an event to ``session`` (flushed with the caller's change, committed by the caller).

    Args:
        actor: the username who acted.
        action: a verb such as ``product.submit`` or ``pii.reveal``.
        entity_type, entity_id: what was acted on.
        before, after: JSON-able snapshots (see :func:`jsonable`); ``None`` for a creation or a read.
        comment: the user's reason, when they gave one.

    Raises:
        InvalidArgumentError: ``actor`` or ``action`` is empty.
    """
    if not actor:
        raise InvalidArgumentError("actor: an audit event needs the user who acted", field="actor")
    if not action:
        raise InvalidArgumentError("action: an audit event needs an action", field="action")
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=jsonable(before),
        after=jsonable(after),
        comment=comment,
    )
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, entity_type: str, entity_id: object) -> list[AuditEvent]:
    """The events recorded for one entity, oldest first."""
    query = (select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
             .order_by(AuditEvent.id))
    return list(session.scalars(query))


#: change-request kind -> (permission to request it, permission to approve it)
CHANGE_KINDS: dict[str, tuple[str, str]] = {
    "penalty_waiver": ("loan.waive.request", "loan.waive.approve"),
    "write_off": ("loan.writeoff.request", "loan.writeoff.approve"),
    "credit_line_freeze": ("credit_line.change.request", "credit_line.change.approve"),
    "credit_line_unfreeze": ("credit_line.change.request", "credit_line.change.approve"),
    "credit_line_adjust": ("credit_line.change.request", "credit_line.change.approve"),
    "suspense_refund": ("loan.refund.request", "loan.refund.approve"),
    "period_close": ("period.close.request", "period.close.approve"),
    "period_reopen": ("period.reopen.request", "period.reopen.approve"),
}


class ChangeRequestClosedError(LoanFactoryError):
    """Raised by :func:`decide_change` for a request that is no longer pending (``field="state"``)."""


class ChangeRequest(Base):
    """An operation filed by one user and waiting for a second user's decision."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    maker: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


def request_change(session: Session, *, maker: User, kind: str, entity_type: str, entity_id: object,
                   params: Any, reason: str = "", at: datetime | None = None) -> ChangeRequest:
    """File a pending request of ``kind`` by ``maker`` and record it in the audit log.

    Raises:
        InvalidArgumentError: ``kind`` is not in :data:`CHANGE_KINDS` (``field="kind"``).
        PermissionDeniedError: ``maker`` may not request ``kind``.
    """
    if kind not in CHANGE_KINDS:
        raise InvalidArgumentError(f"kind: unknown change {kind!r}", field="kind", value=kind)
    require(maker, CHANGE_KINDS[kind][0])
    change = ChangeRequest(kind=kind, entity_type=entity_type, entity_id=str(entity_id), params=jsonable(params),
                           maker=maker.username, reason=reason, created_at=at or datetime.now(UTC), state="pending")
    session.add(change)
    session.flush()
    record(session, actor=maker.username, action=f"{kind}.request", entity_type=entity_type, entity_id=entity_id,
           after={"request": change.id, **change.params}, comment=reason)
    return change


def decide_change(session: Session, change: ChangeRequest, *, checker: User, approve: bool, comment: str = "",
                  at: datetime | None = None) -> ChangeRequest:
    """Approve or reject a pending request as ``checker`` and record it; the caller then carries it out.

    Raises:
        PermissionDeniedError: ``checker`` may not approve this kind.
        FourEyesError: ``checker`` filed the request.
        ChangeRequestClosedError: the request is not pending.
    """
    require(checker, CHANGE_KINDS[change.kind][1])
    require_second_user(change.maker, checker)
    if change.state != "pending":
        raise ChangeRequestClosedError(f"state: request {change.id} is already {change.state}", field="state",
                                       value=change.state)
    change.state = "approved" if approve else "rejected"
    change.checker = checker.username
    change.decided_at = at or datetime.now(UTC)
    change.comment = comment
    record(session, actor=checker.username, action=f"{change.kind}.{change.state}", entity_type=change.entity_type,
           entity_id=change.entity_id, before={"request": change.id, "state": "pending"},
           after={"request": change.id, "state": change.state, **change.params}, comment=comment)
    return change


def pending_changes(session: Session, kinds: tuple[str, ...] | None = None) -> list[ChangeRequest]:
    """Pending requests (of ``kinds`` when given), oldest first."""
    query = select(ChangeRequest).where(ChangeRequest.state == "pending")
    if kinds is not None:
        query = query.where(ChangeRequest.kind.in_(kinds))
    return list(session.scalars(query.order_by(ChangeRequest.id)))


def count_pending(session: Session, kinds: tuple[str, ...]) -> int:
    """How many requests of ``kinds`` wait for a decision."""
    return session.scalar(select(func.count(ChangeRequest.id)).where(ChangeRequest.state == "pending",
                                                                     ChangeRequest.kind.in_(kinds))) or 0
