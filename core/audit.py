"""The audit log: who changed what, when, from what to what.

An :class:`AuditEvent` is appended by :func:`record` inside the caller's transaction, so the event and the
change it describes commit or roll back together; nothing here commits. ``before`` and ``after`` are JSON
snapshots built by the caller (each entity decides what it shows, and personal data goes in masked):
:func:`jsonable` turns ``Decimal`` into strings, dates into ISO text and enums into their values so the
snapshot is exact and portable. Events are never updated or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.errors import InvalidArgumentError


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
