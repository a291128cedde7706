"""Personal data on screen: always masked; revealed in full only on request, by a permitted role, audited.

Names, ID numbers and phone numbers are stored encrypted (:mod:`core.customers.pii`); every page and export goes
through :func:`masked` so none shows them in clear. :func:`reveal` returns the clear values and writes a
``pii.reveal`` audit event naming who looked, at whose data and why (the caller commits it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.backoffice import audit
from core.customers.parties import Customer
from core.customers.pii import mask_id_number, mask_name, mask_phone


def masked(customer: Customer | None) -> dict[str, Any]:
    """What any screen may show of ``customer``."""
    if customer is None:
        return {}
    return {"id": customer.id, "name": mask_name(customer.name), "id_number": mask_id_number(customer.id_number),
            "phone": mask_phone(customer.phone), "region": customer.region, "birth_date": customer.birth_date,
            "monthly_income": customer.monthly_income}


def reveal(session: Session, customer: Customer, *, actor: str, reason: str, context: str) -> dict[str, Any]:
    """The clear personal data of ``customer``, with an audit event of the reveal (who, whose, why)."""
    audit.record(session, actor=actor, action="pii.reveal", entity_type="customer", entity_id=customer.id,
                 after={"fields": ["name", "id_number", "phone"], "context": context}, comment=reason)
    return {**masked(customer), "name": customer.name, "id_number": customer.id_number, "phone": customer.phone}
