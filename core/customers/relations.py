"""Relations between customers and the people around them (关联关系).

A :class:`CustomerRelation` ties a subject (an individual or an enterprise, :class:`PartyRef`) to a related
person: another individual customer (``related_customer_id``) or, for an emergency contact who is not a
customer, a name and a mobile number (encrypted, the number with a blind index for the link analysis).
The kinds (:data:`RELATION_KINDS`):

* ``guarantor`` (担保人): an individual customer guaranteeing the subject's debts;
* ``spouse`` (配偶): of an individual, an individual customer;
* ``emergency_contact`` (紧急联系人): of an individual, a customer or a name and phone;
* ``legal_representative`` (法定代表人): kept on the enterprise's file
  (:attr:`core.customers.enterprises.Enterprise.legal_representative_id`), one source, and listed here by
  :func:`relations_of` beside the stored relations, so every screen reads one list.

A person is never their own relation and the same relation is recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.customers.enterprises import Enterprise
from core.customers.parties import (
    ENTERPRISE,
    INDIVIDUAL,
    PHONE_PURPOSE,
    Customer,
    InvalidCustomerError,
    PartyRef,
    checked_name,
    normalise_phone,
)
from core.customers.pii import EncryptedString, blind_index
from core.db.base import Base

GUARANTOR = "guarantor"
SPOUSE = "spouse"
EMERGENCY_CONTACT = "emergency_contact"
LEGAL_REPRESENTATIVE = "legal_representative"
#: kind -> the subjects it applies to; the related person is always an individual
RELATION_KINDS: dict[str, tuple[str, ...]] = {
    GUARANTOR: (INDIVIDUAL, ENTERPRISE),
    SPOUSE: (INDIVIDUAL,),
    EMERGENCY_CONTACT: (INDIVIDUAL,),
}




class CustomerRelation(Base):
    """One relation of a subject (exactly one of ``customer_id``, ``enterprise_id``) to a person (a customer,
    or a contact's name and phone)."""

    __tablename__ = "customer_relations"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name="subject"),
        CheckConstraint("(related_customer_id IS NULL) <> (contact_phone IS NULL)",
                        name="person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    related_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(EncryptedString("customer_relations.contact_name"))
    contact_phone: Mapped[str | None] = mapped_column(EncryptedString("customer_relations.contact_phone"))
    contact_phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass(frozen=True)
class Relation:
    """A relation as screens and the API read it: the related person is ``customer_id`` or a contact."""

    kind: str
    customer_id: int | None
    contact_name: str | None = None
    contact_phone: str | None = None
    id: int | None = None


def add_relation(session: Session, subject: PartyRef, kind: str, *, actor: str,
                 related_customer_id: int | None = None, contact_name: str | None = None,
                 contact_phone: str | None = None) -> CustomerRelation:
    """Record that ``subject`` has ``kind`` relation to a customer or (an emergency contact only) to a contact.

    Raises:
        InvalidCustomerError: an unknown kind or one the subject's kind does not take (``kind``), no person or
            both, a contact for another kind, a related customer that does not exist or is the subject itself
            (``related_customer_id``), a bad contact name or phone, or the relation recorded already.
    """
    if kind not in RELATION_KINDS:
        raise InvalidCustomerError(f"kind: must be one of {', '.join(RELATION_KINDS)}", field="kind", value=kind)
    if subject.kind not in RELATION_KINDS[kind]:
        raise InvalidCustomerError(f"kind: a {subject.kind} customer has no {kind}", field="kind", value=kind)
    if _subject_missing(session, subject):
        raise InvalidCustomerError(f"subject: no {subject.kind} customer {subject.id}", field="subject")
    relation = CustomerRelation(kind=kind, created_by=actor, **subject.columns())
    if (related_customer_id is None) == (contact_phone is None):
        raise InvalidCustomerError("related_customer_id: name either a customer or a contact's phone",
                                   field="related_customer_id")
    if related_customer_id is not None:
        if session.get(Customer, related_customer_id) is None:
            raise InvalidCustomerError(f"related_customer_id: no customer {related_customer_id}",
                                       field="related_customer_id", value=related_customer_id)
        if subject == PartyRef(INDIVIDUAL, related_customer_id):
            raise InvalidCustomerError("related_customer_id: a customer is not their own relation",
                                       field="related_customer_id", value=related_customer_id)
        relation.related_customer_id = related_customer_id
    else:
        if kind != EMERGENCY_CONTACT:
            raise InvalidCustomerError(f"related_customer_id: a {kind} must be a customer on file",
                                       field="related_customer_id")
        relation.contact_name = checked_name(contact_name, "contact_name", 50)
        try:
            relation.contact_phone = normalise_phone(contact_phone or "")
        except InvalidCustomerError:
            raise InvalidCustomerError("contact_phone: is not a valid Chinese mobile number",
                                       field="contact_phone") from None
        relation.contact_phone_index = blind_index(relation.contact_phone, PHONE_PURPOSE)
    if _recorded(session, relation):
        raise InvalidCustomerError(f"kind: this {kind} is recorded already", field="kind", value=kind)
    session.add(relation)
    session.flush([relation])
    return relation


def _subject_missing(session: Session, subject: PartyRef) -> bool:
    return session.get(Customer if subject.kind == INDIVIDUAL else Enterprise, subject.id) is None


def _recorded(session: Session, relation: CustomerRelation) -> bool:
    table = CustomerRelation
    return session.scalar(select(table.id).where(
        table.customer_id.is_(None) if relation.customer_id is None else table.customer_id == relation.customer_id,
        table.enterprise_id.is_(None) if relation.enterprise_id is None
        else table.enterprise_id == relation.enterprise_id,
        table.kind == relation.kind,
        table.related_customer_id == relation.related_customer_id if relation.related_customer_id is not None
        else table.contact_phone_index == relation.contact_phone_index)) is not None


def relations_of(session: Session, subject: PartyRef) -> list[Relation]:
    """Every relation of ``subject``: an enterprise's legal representative first, then the recorded ones in
    the order they were recorded."""
    found: list[Relation] = []
    if subject.kind == ENTERPRISE:
        representative = session.scalar(select(Enterprise.legal_representative_id)
                                        .where(Enterprise.id == subject.id))
        if representative is not None:
            found.append(Relation(LEGAL_REPRESENTATIVE, representative))
    column = CustomerRelation.customer_id if subject.kind == INDIVIDUAL else CustomerRelation.enterprise_id
    for row in session.scalars(select(CustomerRelation).where(column == subject.id).order_by(CustomerRelation.id)):
        found.append(Relation(row.kind, row.related_customer_id, row.contact_name, row.contact_phone, row.id))
    return found


def represented_enterprises(session: Session, customer_id: int) -> list[Enterprise]:
    """The enterprises whose legal representative ``customer_id`` is."""
    return list(session.scalars(select(Enterprise).where(Enterprise.legal_representative_id == customer_id)
                                .order_by(Enterprise.id)))
