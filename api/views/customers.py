"""Customers: a channel onboards individuals and enterprises, reads them back and records their relations.

Every rule is the kernel's: the files are checked whole (:mod:`core.customers.inputs`), onboarded and scoped
by :mod:`core.origination.customers` (a channel sees the customers it onboarded or that applied through it;
any other id is a 404, as for one that does not exist), relations by :mod:`core.customers.relations`.
Answers show personal data masked: the channel sent it and has no need to read it back in clear.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from api.auth import current_client
from api.body import json_body
from api.openapi.schemas import MAX_ID
from api.serialize import iso, money
from api.transactions import idempotent
from core.customers.enterprises import Enterprise
from core.customers.inputs import parse_enterprise, parse_person
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef
from core.customers.pii import mask_id_number, mask_name, mask_phone
from core.customers.relations import Relation, add_relation, relations_of
from core.errors import FieldProblems, InvalidArgumentError
from core.inputs import FieldChecker
from core.origination.customers import (
    customer_in_scope,
    enterprise_in_scope,
    onboard_enterprise,
    onboard_person,
)
from loanfactory.database import db_session

RELATION_FIELDS = {"kind", "related_customer_id", "contact"}


def _relation_json(relation: Relation) -> dict[str, Any]:
    return {"kind": relation.kind, "customer_id": relation.customer_id,
            "contact": None if relation.contact_phone is None else {
                "name": mask_name(relation.contact_name or ""), "phone": mask_phone(relation.contact_phone)}}


def customer_json(customer: Customer) -> dict[str, Any]:
    """An individual customer as a channel sees them: masked."""
    return {"id": customer.id, "kind": INDIVIDUAL, "name": mask_name(customer.name),
            "id_number": mask_id_number(customer.id_number), "phone": mask_phone(customer.phone),
            "region": customer.region, "monthly_income": money(customer.monthly_income),
            "has_address": customer.address is not None,
            "relations": [_relation_json(r) for r in relations_of(db_session(), PartyRef(INDIVIDUAL, customer.id))],
            "created_at": iso(customer.created_at),
            "links": {"self": url_for("api.get_customer", customer_id=customer.id)}}


def enterprise_json(enterprise: Enterprise) -> dict[str, Any]:
    """An enterprise as a channel sees it: the registry facts, the account number masked."""
    return {"id": enterprise.id, "kind": ENTERPRISE, "name": enterprise.name, "credit_code": enterprise.credit_code,
            "legal_representative_id": enterprise.legal_representative_id,
            "registered_capital": money(enterprise.registered_capital), "industry_code": enterprise.industry_code,
            "bank_account": {"bank_code": enterprise.account_bank_code,
                             "account_number": mask_id_number(enterprise.account_number)},
            "relations": [_relation_json(r) for r in relations_of(db_session(), PartyRef(ENTERPRISE, enterprise.id))],
            "created_at": iso(enterprise.created_at),
            "links": {"self": url_for("api.get_enterprise", enterprise_id=enterprise.id),
                      "legal_representative": url_for("api.get_customer",
                                                      customer_id=enterprise.legal_representative_id)}}


def _new_relation(subject: PartyRef) -> None:
    """Record the relation the body names for ``subject``; a related customer must be in the channel's scope."""
    body = json_body()
    check = FieldChecker()
    check.unknown(body, RELATION_FIELDS, "")
    kind = check.text(body, "kind", "", required=True, max_length=30)
    related = body.get("related_customer_id")
    contact = body.get("contact")
    if related is not None and (isinstance(related, bool) or not isinstance(related, int)
                                or not 1 <= related <= MAX_ID):
        check.bad("related_customer_id", "must be a customer id")
    if contact is not None and not isinstance(contact, dict):
        check.bad("contact", "must be an object with name and phone")
    check.raise_problems()
    session = db_session()
    channel = current_client().channel
    if isinstance(related, int):
        customer_in_scope(session, channel, related)
    contact = contact or {}
    try:
        add_relation(session, subject, str(kind), actor=f"channel:{channel}", related_customer_id=related,
                     contact_name=contact.get("name"), contact_phone=contact.get("phone"))
    except InvalidArgumentError as error:
        field = {"contact_name": "contact.name", "contact_phone": "contact.phone"}.get(error.field or "",
                                                                                     error.field or "kind")
        raise FieldProblems([(field, str(error).removeprefix(f"{error.field}: "))]) from None


def register(bp: Blueprint) -> None:
    @bp.post("/customers")
    @idempotent
    def create_customer() -> tuple[Response, int, dict[str, str]]:
        """Onboard an individual (or bring a known one up to date: 200)."""
        check = FieldChecker()
        person = parse_person(check, json_body(), "")
        check.raise_problems()
        assert person is not None
        client = current_client()
        customer, created = onboard_person(db_session(), client.channel, person, actor=f"channel:{client.channel}")
        location = url_for("api.get_customer", customer_id=customer.id)
        return jsonify(customer_json(customer)), 201 if created else 200, {"Location": location}

    @bp.get("/customers/<int:customer_id>")
    def get_customer(customer_id: int) -> Response:
        return jsonify(customer_json(customer_in_scope(db_session(), current_client().channel, customer_id)))

    @bp.post("/customers/<int:customer_id>/relations")
    @idempotent
    def add_customer_relation(customer_id: int) -> tuple[Response, int]:
        customer = customer_in_scope(db_session(), current_client().channel, customer_id)
        _new_relation(PartyRef(INDIVIDUAL, customer.id))
        return jsonify(customer_json(customer)), 201

    @bp.post("/enterprises")
    @idempotent
    def create_enterprise() -> tuple[Response, int, dict[str, str]]:
        """Onboard an enterprise with its legal representative (or bring a known one up to date: 200)."""
        check = FieldChecker()
        file = parse_enterprise(check, json_body(), "", with_representative=True)
        check.raise_problems()
        assert file is not None
        client = current_client()
        enterprise, created = onboard_enterprise(db_session(), client.channel, file, actor=f"channel:{client.channel}")
        location = url_for("api.get_enterprise", enterprise_id=enterprise.id)
        return jsonify(enterprise_json(enterprise)), 201 if created else 200, {"Location": location}

    @bp.get("/enterprises/<int:enterprise_id>")
    def get_enterprise(enterprise_id: int) -> Response:
        return jsonify(enterprise_json(enterprise_in_scope(db_session(), current_client().channel, enterprise_id)))

    @bp.post("/enterprises/<int:enterprise_id>/relations")
    @idempotent
    def add_enterprise_relation(enterprise_id: int) -> tuple[Response, int]:
        enterprise = enterprise_in_scope(db_session(), current_client().channel, enterprise_id)
        _new_relation(PartyRef(ENTERPRISE, enterprise.id))
        return jsonify(enterprise_json(enterprise)), 201
