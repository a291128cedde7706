"""Customer tags (客户标签): short codes on a customer's file, set by rules or by staff.

A :class:`CustomerTag` belongs to one subject (:class:`~core.customers.parties.PartyRef`) and says who set it:
``source`` ``rule`` (the rule set's code and version in ``set_by``; :func:`replace_rule_tags` replaces a
subject's rule tags whole each time the rules run) or ``staff`` (the username, with a note;
:func:`set_staff_tag` and :func:`remove_staff_tag` write an audit event in the same transaction). A code is
upper-case letters, digits and underscores; a subject carries a code once per source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, ColumnElement, DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.backoffice import audit
from core.customers.parties import INDIVIDUAL, InvalidCustomerError, PartyRef
from core.db.base import Base

RULE = "rule"
STAFF = "staff"
TAG_SOURCES = (RULE, STAFF)
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


class CustomerTag(Base):
    """A tag on a customer's file."""

    __tablename__ = "customer_tags"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name="subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(10))
    set_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def checked_code(code: object) -> str:
    """A tag code as stored, or :class:`InvalidCustomerError` on ``code``."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if not _CODE.fullmatch(text):
        raise InvalidCustomerError("code: a tag is a letter then up to 39 upper-case letters, digits or "
                                   "underscores", field="code", value=code)
    return text


def _of(subject: PartyRef) -> ColumnElement[bool]:
    column = CustomerTag.customer_id if subject.kind == INDIVIDUAL else CustomerTag.enterprise_id
    return column == subject.id


def tags_of(session: Session, subject: PartyRef) -> list[CustomerTag]:
    """The subject's tags, rule tags first, each source by code."""
    return list(session.scalars(select(CustomerTag).where(_of(subject))
                                .order_by(CustomerTag.source, CustomerTag.code)))


def set_staff_tag(session: Session, subject: PartyRef, code: str, *, actor: str, note: str = "",
                  now: datetime | None = None) -> CustomerTag:
    """Tag ``subject`` with ``code`` on behalf of ``actor`` (audited as ``customer.tag``).

    Raises:
        InvalidCustomerError: a malformed code, a note over 200 characters, or the staff tag is there already.
    """
    code = checked_code(code)
    note = (note or "").strip()
    if len(note) > 200:
        raise InvalidCustomerError("note: at most 200 characters", field="note")
    if session.scalar(select(CustomerTag.id).where(_of(subject), CustomerTag.code == code,
                                                   CustomerTag.source == STAFF)) is not None:
        raise InvalidCustomerError(f"code: {code} is set already", field="code", value=code)
    tag = CustomerTag(code=code, source=STAFF, set_by=actor, note=note, set_at=now or datetime.now(UTC),
                      **subject.columns())
    session.add(tag)
    session.flush([tag])
    audit.record(session, actor=actor, action="customer.tag", entity_type=subject.kind, entity_id=subject.id,
                 after={"code": code, "note": note})
    return tag


def remove_staff_tag(session: Session, subject: PartyRef, code: str, *, actor: str, reason: str) -> None:
    """Take a staff tag off ``subject`` (audited as ``customer.untag`` with the reason). Rule tags go only when
    the rules no longer set them.

    Raises:
        InvalidCustomerError: no such staff tag, or no reason given.
    """
    code = checked_code(code)
    if not (reason or "").strip():
        raise InvalidCustomerError("reason: say why the tag comes off", field="reason")
    tag = session.scalar(select(CustomerTag).where(_of(subject), CustomerTag.code == code,
                                                   CustomerTag.source == STAFF))
    if tag is None:
        raise InvalidCustomerError(f"code: no staff tag {code} on this customer", field="code", value=code)
    before = {"code": tag.code, "note": tag.note, "set_by": tag.set_by}
    session.delete(tag)
    session.flush()
    audit.record(session, actor=actor, action="customer.untag", entity_type=subject.kind, entity_id=subject.id,
                 before=before, comment=reason.strip())


def replace_rule_tags(session: Session, subject: PartyRef, codes: Iterable[str], *, rule_set: str,
                      now: datetime) -> list[str]:
    """Make ``codes`` the subject's rule tags (set by ``rule_set``, its code and version); returns them
    sorted."""
    wanted = sorted({checked_code(code) for code in codes})
    session.execute(delete(CustomerTag).where(_of(subject), CustomerTag.source == RULE))
    session.add_all(CustomerTag(code=code, source=RULE, set_by=rule_set, note="", set_at=now, **subject.columns())
                    for code in wanted)
    session.flush()
    return wanted
