"""Enterprise customers (企业客户): the file of a business that borrows, linked to its legal representative.

An :class:`Enterprise` is found by its unified social credit code (统一社会信用代码, checked by
:func:`core.customers.codes.normalise_credit_code`) through a unique blind index, like a person by the ID
number: one code is one enterprise. Its name, code, addresses and corporate account are encrypted at rest
(a sole proprietorship's name and address name a person); the addresses and the account number carry blind
indexes for the link analysis. The legal representative (法定代表人) is an individual :class:`Customer`,
mandatory; registered capital is exact money and may be absent (a 个体工商户 has none); the industry code is
GB/T 4754 (:func:`core.customers.codes.normalise_industry_code`). The corporate account's holder must be the
enterprise itself: a loan to a business is paid to the business.

:func:`register_enterprise` creates the file or brings a known one up to date (same code, same legal
representative), in the caller's transaction; :func:`change_legal_representative` is the audited staff
change of who represents it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from core.backoffice import audit
from core.customers.codes import normalise_credit_code, normalise_industry_code
from core.customers.parties import Customer, InvalidCustomerError, checked_name, indexed_address
from core.customers.pii import EncryptedString, blind_index
from core.db.base import Amount, Base
from core.money import to_decimal

CREDIT_CODE_PURPOSE = "enterprises.credit_code"
ACCOUNT_PURPOSE = "parties.account_number"
MAX_ENTERPRISE_NAME = 100

#: the enterprise file's fields a caller sets, in the order a screen shows them
FILE_FIELDS = ("name", "credit_code", "legal_representative_id", "registered_capital", "industry_code",
               "registered_address", "operating_address", "account_bank_code", "account_number", "account_holder")


class Enterprise(Base):
    """A business customer; look it up with :func:`find_by_credit_code`."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedString("enterprises.name"))
    credit_code: Mapped[str] = mapped_column(EncryptedString("enterprises.credit_code"))
    credit_code_index: Mapped[str] = mapped_column(String(64), unique=True)
    legal_representative_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    registered_capital: Mapped[Decimal | None] = mapped_column(Amount)
    industry_code: Mapped[str] = mapped_column(String(5))
    registered_address: Mapped[str] = mapped_column(EncryptedString("enterprises.registered_address"))
    registered_address_index: Mapped[str] = mapped_column(String(64), index=True)
    operating_address: Mapped[str | None] = mapped_column(EncryptedString("enterprises.operating_address"))
    operating_address_index: Mapped[str | None] = mapped_column(String(64), index=True)
    account_bank_code: Mapped[str] = mapped_column(String(20))
    account_number: Mapped[str] = mapped_column(EncryptedString("enterprises.account_number"))
    account_number_index: Mapped[str] = mapped_column(String(64), index=True)
    account_holder: Mapped[str] = mapped_column(EncryptedString("enterprises.account_holder"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @validates("name")
    def _check_name(self, _key: str, value: str) -> str:
        return checked_name(value, "name", MAX_ENTERPRISE_NAME)

    @validates("credit_code")
    def _check_credit_code(self, _key: str, value: str) -> str:
        code = normalise_credit_code(value)
        self.credit_code_index = blind_index(code, CREDIT_CODE_PURPOSE)
        return code

    @validates("industry_code")
    def _check_industry(self, _key: str, value: str) -> str:
        return normalise_industry_code(value)

    @validates("registered_capital")
    def _check_capital(self, _key: str, value: object) -> Decimal | None:
        if value is None:
            return None
        capital = to_decimal(value, "registered_capital")
        if capital <= 0:
            raise InvalidCustomerError("registered_capital: must be more than zero (leave it out when there is "
                                       "none)", field="registered_capital", value=value)
        return capital

    @validates("registered_address")
    def _check_registered(self, _key: str, value: str) -> str:
        address, index = indexed_address(value, "registered_address")
        if address is None or index is None:
            raise InvalidCustomerError("registered_address: is required", field="registered_address")
        self.registered_address_index = index
        return address

    @validates("operating_address")
    def _check_operating(self, _key: str, value: str | None) -> str | None:
        address, self.operating_address_index = indexed_address(value, "operating_address")
        return address

    @validates("account_number")
    def _check_account(self, _key: str, value: str) -> str:
        number = normalise_account_number(value, "account_number")
        self.account_number_index = account_index(number)
        return number

    @validates("account_bank_code")
    def _check_bank(self, _key: str, value: str) -> str:
        return normalise_bank_code(value, "account_bank_code")

    @validates("account_holder")
    def _check_holder(self, _key: str, value: str) -> str:
        return checked_name(value, "account_holder", MAX_ENTERPRISE_NAME)


def normalise_account_number(value: object, field: str) -> str:
    """A bank account number: 8 to 30 digits, spaces dropped; or :class:`InvalidCustomerError` on ``field``."""
    number = "".join(value.split()) if isinstance(value, str) else ""
    if not (number.isascii() and number.isdigit() and 8 <= len(number) <= 30):
        raise InvalidCustomerError(f"{field}: must be 8 to 30 digits", field=field, value=value)
    return number


def normalise_bank_code(value: object, field: str) -> str:
    """A bank code: 2 to 12 upper-case letters and digits (``ICBC``) or digits (a CNAPS code)."""
    code = value.strip() if isinstance(value, str) else ""
    if not (code.isascii() and 2 <= len(code) <= 12 and ((code.isalnum() and code.isupper()) or code.isdigit())):
        raise InvalidCustomerError(f"{field}: must be upper-case letters and digits", field=field, value=value)
    return code


def account_index(number: str) -> str:
    """The blind index of a normalised account number, one purpose for every table (link analysis)."""
    return blind_index(number, ACCOUNT_PURPOSE)


def find_by_credit_code(session: Session, credit_code: str) -> Enterprise | None:
    """The enterprise with this credit code, through its blind index (raises on an invalid code)."""
    index = blind_index(normalise_credit_code(credit_code), CREDIT_CODE_PURPOSE)
    return session.scalar(select(Enterprise).where(Enterprise.credit_code_index == index))


def register_enterprise(session: Session, legal_representative_id: int, **fields: Any) -> tuple[Enterprise, bool]:
    """The enterprise with ``fields["credit_code"]``, created or brought up to date with ``fields`` (the
    :data:`FILE_FIELDS` but the legal representative's id), and whether it is new.

    A known enterprise keeps its legal representative: an application or an onboarding that names another
    person is refused, since changing who speaks for a business is a staff decision
    (:func:`change_legal_representative`), never a side effect of a request.

    Raises:
        InvalidCustomerError: a field is invalid (named), the corporate account's holder is not the enterprise
            (``account_holder``), or the enterprise has another legal representative on file
            (``legal_representative``).
    """
    unknown = set(fields) - set(FILE_FIELDS) | ({"legal_representative_id"} & set(fields))
    if unknown:
        raise InvalidCustomerError(f"{sorted(unknown)[0]}: not a field to set here", field=sorted(unknown)[0])
    if checked_name(fields.get("account_holder"), "account_holder", MAX_ENTERPRISE_NAME) != checked_name(
            fields.get("name"), "name", MAX_ENTERPRISE_NAME):
        raise InvalidCustomerError("account_holder: a corporate account must be held by the enterprise itself",
                                   field="account_holder")
    if session.get(Customer, legal_representative_id) is None:
        raise InvalidCustomerError(f"legal_representative: no customer {legal_representative_id}",
                                   field="legal_representative", value=legal_representative_id)
    found = find_by_credit_code(session, fields.get("credit_code", ""))
    if found is not None and found.legal_representative_id != legal_representative_id:
        raise InvalidCustomerError("legal_representative: this enterprise has another legal representative on "
                                   "file", field="legal_representative")
    enterprise = found or Enterprise(legal_representative_id=legal_representative_id)
    for key, value in fields.items():
        setattr(enterprise, key, value)
    if found is None:
        session.add(enterprise)
    session.flush([enterprise])
    return enterprise, found is None


def change_legal_representative(session: Session, enterprise: Enterprise, customer_id: int, *,
                                actor: str, reason: str) -> None:
    """Record a new legal representative for ``enterprise`` (audited as ``enterprise.legal_representative``
    with the reason).

    Raises:
        InvalidCustomerError: no such customer, the same one, or no reason.
    """
    if not (reason or "").strip():
        raise InvalidCustomerError("reason: say why the legal representative changes", field="reason")
    if session.get(Customer, customer_id) is None:
        raise InvalidCustomerError(f"legal_representative: no customer {customer_id}", field="legal_representative",
                                   value=customer_id)
    if customer_id == enterprise.legal_representative_id:
        raise InvalidCustomerError("legal_representative: is that customer already", field="legal_representative")
    before = enterprise.legal_representative_id
    enterprise.legal_representative_id = customer_id
    session.flush([enterprise])
    audit.record(session, actor=actor, action="enterprise.legal_representative", entity_type="enterprise",
                 entity_id=enterprise.id, before={"legal_representative_id": before},
                 after={"legal_representative_id": customer_id}, comment=reason.strip())
