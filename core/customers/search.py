"""Finding customers by what a person types: an ID number, a mobile number or a credit code, matched through
the blind indexes (nothing is decrypted to search), or a customer number.

:func:`find_customers` tries each reading of the text and returns what matches; text that is none of them
matches nobody (never an error: a search box takes anything).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.customers.enterprises import Enterprise, find_by_credit_code
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef, find_by_id_number, find_by_phone
from core.errors import InvalidArgumentError, LoanFactoryError

#: customer numbers are typed with their kind's letter: ``C12`` an individual, ``E5`` an enterprise
_PREFIXES = {"C": Customer, "E": Enterprise}


def party_of_number(text: str) -> PartyRef:
    """The party a customer number names (``C12`` an individual, ``E5`` an enterprise), or
    :class:`InvalidArgumentError` on ``customer``; whether it exists is the caller's to check."""
    text = (text or "").strip()
    if text[:1].upper() not in _PREFIXES or not text[1:].isdigit() or len(text) > 11:
        raise InvalidArgumentError(f"customer: {text!r} is not a customer number such as C12 or E5",
                                   field="customer", value=text)
    return PartyRef(INDIVIDUAL if text[0].upper() == "C" else ENTERPRISE, int(text[1:]))


@dataclass(frozen=True)
class Found:
    """The individuals and enterprises a search matched, in id order."""

    customers: tuple[Customer, ...]
    enterprises: tuple[Enterprise, ...]


def find_customers(session: Session, text: str) -> Found:
    """Customers whose ID number or phone, and enterprises whose credit code, is ``text``; or the customer
    ``C<n>`` / enterprise ``E<n>``."""
    text = (text or "").strip()
    customers: dict[int, Customer] = {}
    enterprises: dict[int, Enterprise] = {}
    kind = _PREFIXES.get(text[:1].upper())
    if kind is not None and text[1:].isdigit() and len(text) <= 11:
        row = session.get(kind, int(text[1:]))
        if isinstance(row, Customer):
            customers[row.id] = row
        elif isinstance(row, Enterprise):
            enterprises[row.id] = row
    for finder in (find_by_phone, find_by_id_number):
        try:
            result = finder(session, text)
        except LoanFactoryError:
            continue
        for customer in result if isinstance(result, list) else [result] if result else []:
            customers[customer.id] = customer
    try:
        enterprise = find_by_credit_code(session, text)
    except LoanFactoryError:
        enterprise = None
    if enterprise is not None:
        enterprises[enterprise.id] = enterprise
    return Found(tuple(customers[k] for k in sorted(customers)), tuple(enterprises[k] for k in sorted(enterprises)))
