"""Customer files as a channel or a person sends them, checked whole before anything is written.

:func:`parse_person` and :func:`parse_enterprise` read a request document with a
:class:`~core.inputs.FieldChecker` (every bad field noted by its dotted name, under the caller's prefix) and
return frozen records whose values are already normalised the way the tables store them: the same
functions as the models' validators (:mod:`core.customers.parties`, :mod:`core.customers.codes`,
:mod:`core.customers.enterprises`), so what passes here cannot be refused on insert.
:func:`bank_account` is the one check of a bank account a request names (a payout account, a corporate
account).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from core.customers.codes import normalise_credit_code, normalise_industry_code
from core.customers.enterprises import MAX_ENTERPRISE_NAME, normalise_account_number, normalise_bank_code
from core.customers.parties import (
    MAX_NAME,
    InvalidCustomerError,
    checked_name,
    normalise_address,
    normalise_id_number,
    normalise_phone,
)
from core.inputs import FieldChecker

T = TypeVar("T")
BANK_FIELDS = ("bank_code", "account_number", "holder_name")
PERSON_FIELDS = {"name", "id_number", "phone", "monthly_income", "address", "emergency_contacts"}
CONTACT_FIELDS = {"name", "phone"}
ENTERPRISE_FIELDS = {"name", "credit_code", "registered_capital", "industry_code", "registered_address",
                     "operating_address", "bank_account", "legal_representative"}
MAX_CONTACTS = 5


@dataclass(frozen=True)
class Contact:
    """An emergency contact who need not be a customer."""

    name: str
    phone: str


@dataclass(frozen=True)
class PersonFile:
    """An individual's file, normalised."""

    name: str
    id_number: str
    phone: str
    monthly_income: Decimal | None = None
    address: str | None = None
    emergency_contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class EnterpriseFile:
    """An enterprise's file, normalised; ``legal_representative`` when the document named one."""

    name: str
    credit_code: str
    industry_code: str
    registered_address: str
    bank_account: dict[str, str]
    registered_capital: Decimal | None = None
    operating_address: str | None = None
    legal_representative: PersonFile | None = None

    def columns(self) -> dict[str, Any]:
        """The :class:`~core.customers.enterprises.Enterprise` fields this file sets."""
        return {"name": self.name, "credit_code": self.credit_code, "industry_code": self.industry_code,
                "registered_address": self.registered_address, "registered_capital": self.registered_capital,
                "operating_address": self.operating_address, "account_bank_code": self.bank_account["bank_code"],
                "account_number": self.bank_account["account_number"],
                "account_holder": self.bank_account["holder_name"]}


def _checked(check: FieldChecker, name: str, rule: Callable[[], T]) -> T | None:
    """``rule()``, or ``None`` with its refusal noted under ``name``."""
    try:
        return rule()
    except InvalidCustomerError as error:
        check.bad(name, str(error).removeprefix(f"{error.field}: "))
        return None


def _object(check: FieldChecker, data: Any, name: str) -> Mapping[str, Any] | None:
    if not isinstance(data, Mapping):
        check.bad(name, "is required and must be an object")
        return None
    return data


def bank_account(check: FieldChecker, data: Any, name: str) -> dict[str, str] | None:
    """The bank account object under ``name`` (bank code, account number, holder), or ``None`` (noted)."""
    if data is None:
        return None
    if _object(check, data, name) is None:
        return None
    prefix = name + "."
    check.unknown(data, set(BANK_FIELDS), prefix)
    values = {}
    for key in BANK_FIELDS:
        value = check.text(data, key, prefix, required=True, max_length=50)
        if value is None:
            continue
        rule = {"bank_code": normalise_bank_code, "account_number": normalise_account_number}.get(key)
        checked = _checked(check, prefix + key, partial(rule, value, key)) if rule else value
        if checked is not None:
            values[key] = checked
    return values if len(values) == len(BANK_FIELDS) else None


def _contacts(check: FieldChecker, data: Any, name: str) -> tuple[Contact, ...]:
    if data is None:
        return ()
    if not isinstance(data, list) or len(data) > MAX_CONTACTS:
        check.bad(name, f"must be a list of at most {MAX_CONTACTS} contacts")
        return ()
    contacts = []
    for number, item in enumerate(data):
        where = f"{name}.{number}"
        if _object(check, item, where) is None:
            continue
        check.unknown(item, CONTACT_FIELDS, where + ".")
        person = _checked(check, where + ".name", partial(checked_name, item.get("name"), "name", MAX_NAME))
        phone = _checked(check, where + ".phone", partial(normalise_phone, item.get("phone") or ""))
        if person and phone:
            contacts.append(Contact(person, phone))
    return tuple(contacts)


def parse_person(check: FieldChecker, data: Any, name: str, *, with_contacts: bool = True) -> PersonFile | None:
    """An individual's file under ``name`` (``""`` for the whole document), or ``None`` with every problem
    noted."""
    document = _object(check, data, name or "body")
    if document is None:
        return None
    prefix = f"{name}." if name else ""
    before = len(check.problems)
    check.unknown(document, PERSON_FIELDS if with_contacts else PERSON_FIELDS - {"emergency_contacts"}, prefix)
    person = _checked(check, prefix + "name", lambda: checked_name(document.get("name"), "name", MAX_NAME))
    id_number = _checked(check, prefix + "id_number", lambda: normalise_id_number(document.get("id_number") or ""))
    phone = _checked(check, prefix + "phone", lambda: normalise_phone(document.get("phone") or ""))
    income = check.money(document, "monthly_income", prefix, required=False)
    address = None
    if document.get("address") is not None:
        address = _checked(check, prefix + "address", lambda: normalise_address(document["address"], "address"))
    contacts = _contacts(check, document.get("emergency_contacts"), prefix + "emergency_contacts")
    if len(check.problems) > before or not (person and id_number and phone):
        return None
    return PersonFile(person, id_number, phone, income, address, contacts)


def parse_enterprise(check: FieldChecker, data: Any, name: str, *,
                     with_representative: bool) -> EnterpriseFile | None:
    """An enterprise's file under ``name`` (``""`` for the whole document), with its
    ``legal_representative`` when ``with_representative`` (the API's onboarding; an application names the
    representative as its applicant), or ``None`` with every problem noted."""
    document = _object(check, data, name or "body")
    if document is None:
        return None
    prefix = f"{name}." if name else ""
    before = len(check.problems)
    allowed = ENTERPRISE_FIELDS if with_representative else ENTERPRISE_FIELDS - {"legal_representative"}
    check.unknown(document, allowed, prefix)
    title = _checked(check, prefix + "name",
                     lambda: checked_name(document.get("name"), "name", MAX_ENTERPRISE_NAME))
    code = _checked(check, prefix + "credit_code", lambda: normalise_credit_code(document.get("credit_code")))
    industry = _checked(check, prefix + "industry_code",
                        lambda: normalise_industry_code(document.get("industry_code")))
    registered = _checked(check, prefix + "registered_address",
                          lambda: normalise_address(document.get("registered_address"), "registered_address"))
    operating = None
    if document.get("operating_address") is not None:
        operating = _checked(check, prefix + "operating_address",
                             lambda: normalise_address(document["operating_address"], "operating_address"))
    capital = check.money(document, "registered_capital", prefix, required=False, allow_zero=False)
    account = bank_account(check, document.get("bank_account"), prefix + "bank_account")
    if document.get("bank_account") is None:
        check.bad(prefix + "bank_account", "is required: the enterprise's corporate account")
    elif account is not None and title is not None and account["holder_name"] != title:
        check.bad(prefix + "bank_account.holder_name", "a corporate account must be held by the enterprise itself")
    representative = None
    if with_representative:
        representative = parse_person(check, document.get("legal_representative"), prefix + "legal_representative",
                                      with_contacts=False)
    if len(check.problems) > before or not (title and code and industry and registered and account):
        return None
    return EnterpriseFile(title, code, industry, registered, account, capital, operating, representative)
