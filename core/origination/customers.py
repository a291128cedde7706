"""Customers as a sales channel sees them: onboarding a file, and the channel's scope.

A channel sees a customer it onboarded (:func:`onboard_person`, :func:`onboard_enterprise`, which record a
:class:`ChannelCustomer` row) or one that applied through it (an application of the channel naming the person
or the enterprise): :func:`customer_in_scope` and :func:`enterprise_in_scope` answer anything else with
:class:`~core.origination.errors.NotFoundError`, the same answer as for an id that does not exist, so a
channel learns nothing about another's customers.

Onboarding a known person (same ID number) brings phone, income and address up to date but never the name:
a different name under a known ID number is refused. Onboarding a known enterprise (same credit code) keeps
its legal representative (:func:`core.customers.enterprises.register_enterprise`). Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.applications.models import Application
from core.customers.enterprises import Enterprise, register_enterprise
from core.customers.inputs import EnterpriseFile, PersonFile
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef, find_by_id_number
from core.customers.relations import EMERGENCY_CONTACT, CustomerRelation, add_relation
from core.db.base import Base
from core.errors import FieldProblems, InvalidArgumentError
from core.origination.errors import NotFoundError


class ChannelCustomer(Base):
    """A customer (or an enterprise) a channel onboarded."""

    __tablename__ = "channel_customers"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name="subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(60), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def _link(session: Session, channel: str, subject: PartyRef) -> None:
    columns = subject.columns()
    known = select(ChannelCustomer.id).where(ChannelCustomer.channel == channel, *(
        getattr(ChannelCustomer, name) == value for name, value in columns.items() if value is not None))
    if session.scalar(known) is None:
        session.add(ChannelCustomer(channel=channel, **columns))
        session.flush()


def _person(session: Session, person: PersonFile, prefix: str) -> tuple[Customer, bool]:
    customer = find_by_id_number(session, person.id_number)
    if customer is not None and customer.name != person.name:
        raise FieldProblems([(prefix + "name", "does not match the name on file for this ID number")])
    created = customer is None
    if customer is None:
        customer = Customer(name=person.name, id_number=person.id_number, phone=person.phone)
        session.add(customer)
    customer.phone = person.phone
    if person.monthly_income is not None:
        customer.monthly_income = person.monthly_income
    if person.address is not None:
        customer.address = person.address
    session.flush([customer])
    return customer, created


def onboard_person(session: Session, channel: str, person: PersonFile, *, actor: str) -> tuple[Customer, bool]:
    """The individual customer of ``person``, created or brought up to date, with their emergency contacts
    (those not recorded yet), in ``channel``'s scope; and whether the customer is new.

    Raises:
        FieldProblems: a known ID number under another name (``name``).
    """
    customer, created = _person(session, person, "")
    subject = PartyRef(INDIVIDUAL, customer.id)
    for contact in person.emergency_contacts:
        try:
            add_relation(session, subject, EMERGENCY_CONTACT, actor=actor, contact_name=contact.name,
                         contact_phone=contact.phone)
        except InvalidArgumentError:  # checked already, so recorded already: onboarding again is no error
            continue
    _link(session, channel, subject)
    return customer, created


def onboard_enterprise(session: Session, channel: str, file: EnterpriseFile, *,
                       actor: str) -> tuple[Enterprise, bool]:
    """The enterprise of ``file`` and its legal representative (both created or brought up to date), in
    ``channel``'s scope; and whether the enterprise is new.

    Raises:
        FieldProblems: the representative's ID number is known under another name, or the enterprise has
            another legal representative on file (``legal_representative``).
    """
    assert file.legal_representative is not None
    representative, _new = _person(session, file.legal_representative, "legal_representative.")
    try:
        enterprise, created = register_enterprise(session, representative.id, **file.columns())
    except InvalidArgumentError as error:
        raise FieldProblems([(error.field or "body", str(error).removeprefix(f"{error.field}: "))]) from None
    _link(session, channel, PartyRef(INDIVIDUAL, representative.id))
    _link(session, channel, PartyRef(ENTERPRISE, enterprise.id))
    return enterprise, created


def _in_scope(session: Session, channel: str, subject: PartyRef) -> bool:
    column = "customer_id" if subject.kind == INDIVIDUAL else "enterprise_id"
    onboarded = select(ChannelCustomer.id).where(ChannelCustomer.channel == channel,
                                                 getattr(ChannelCustomer, column) == subject.id)
    applied = select(Application.id).where(Application.channel == channel,
                                           getattr(Application, column) == subject.id)
    return session.scalar(onboarded.union_all(applied).limit(1)) is not None


def customer_in_scope(session: Session, channel: str, customer_id: int) -> Customer:
    """The individual customer ``customer_id`` if ``channel`` may see them.

    Raises:
        NotFoundError: no such customer, or not in the channel's scope.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or not _in_scope(session, channel, PartyRef(INDIVIDUAL, customer_id)):
        raise NotFoundError(f"customer {customer_id} not found", field="customer_id", value=customer_id)
    return customer


def enterprise_in_scope(session: Session, channel: str, enterprise_id: int) -> Enterprise:
    """The enterprise ``enterprise_id`` if ``channel`` may see it (raises :class:`NotFoundError` otherwise)."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None or not _in_scope(session, channel, PartyRef(ENTERPRISE, enterprise_id)):
        raise NotFoundError(f"enterprise {enterprise_id} not found", field="enterprise_id", value=enterprise_id)
    return enterprise


#: the relation table, imported so that creating the metadata creates it with the onboarding's tables
REFERENCED = (CustomerRelation,)
