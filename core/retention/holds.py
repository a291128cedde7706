"""Legal holds (司法冻结/诉讼保全): while a hold on a customer or an enterprise is open nothing of theirs is
purged, whatever its retention says.

:func:`place_hold` opens one with a reason (audited ``retention.hold``), :func:`release_hold` closes it with a
reason (audited ``retention.release``); a released hold stays on record. :func:`held_subjects` lists the
parties under an open hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.backoffice import audit
from core.customers.parties import ENTERPRISE, INDIVIDUAL, PartyRef
from core.db.base import Base
from core.errors import InvalidArgumentError


class LegalHold(Base):
    """A hold on a customer's or an enterprise's records; open while ``released_at`` is empty."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name="subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def subject(self) -> PartyRef:
        if self.customer_id is not None:
            return PartyRef(INDIVIDUAL, self.customer_id)
        assert self.enterprise_id is not None
        return PartyRef(ENTERPRISE, self.enterprise_id)


def _reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidArgumentError(f"{field}: say why", field=field)
    return text[:2000]


def place_hold(session: Session, subject: PartyRef, *, reason: str, actor: str, now: datetime) -> LegalHold:
    """Open a hold on ``subject`` (the caller commits).

    Raises:
        InvalidArgumentError: no reason (``reason``).
        InvalidArgumentError: no such customer or enterprise (``customer``).
    """
    from core.customers.enterprises import Enterprise
    from core.customers.parties import Customer

    model = Customer if subject.kind == INDIVIDUAL else Enterprise
    if session.get(model, subject.id) is None:
        raise InvalidArgumentError(f"customer: no {subject}", field="customer", value=str(subject))
    hold = LegalHold(reason=_reason(reason), placed_by=actor, placed_at=now, **subject.columns())
    session.add(hold)
    session.flush([hold])
    audit.record(session, actor=actor, action="retention.hold", entity_type="legal_hold", entity_id=hold.id,
                 after={"subject": str(subject)}, comment=hold.reason)
    return hold


def release_hold(session: Session, hold_id: int, *, reason: str, actor: str, now: datetime) -> LegalHold:
    """Release the open hold ``hold_id`` (the caller commits).

    Raises:
        InvalidArgumentError: no reason (``reason``), or the hold is released already (``hold``).
        InvalidArgumentError: no such hold (``hold``).
    """
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise InvalidArgumentError(f"hold: no legal hold {hold_id}", field="hold", value=hold_id)
    if hold.released_at is not None:
        raise InvalidArgumentError(f"hold: legal hold {hold_id} was released already", field="hold", value=hold_id)
    text = _reason(reason)
    hold.released_by, hold.released_at, hold.release_reason = actor, now, text
    audit.record(session, actor=actor, action="retention.release", entity_type="legal_hold", entity_id=hold.id,
                 before={"subject": str(hold.subject), "open": True}, after={"open": False}, comment=text)
    return hold


def open_holds(session: Session) -> list[LegalHold]:
    """The holds not released, oldest first."""
    return list(session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)))


def held_subjects(session: Session) -> set[PartyRef]:
    """The parties under an open hold."""
    return {hold.subject for hold in open_holds(session)}
