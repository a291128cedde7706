"""Customers: the borrowers, with their personal data encrypted at rest.

A :class:`Customer` keeps name, resident ID number (居民身份证号) and mobile phone in
:class:`~core.customers.pii.EncryptedString` columns. The ID number and phone also carry a blind index so a customer
can be found by them (:func:`find_by_id_number`, :func:`find_by_phone`) without decrypting the table;
one ID number is one customer (the index is unique). Values are validated and normalised when assigned:
the ID number with ``stdnum.cn.ric`` (checksum, birth date, region code), the phone with ``phonenumbers``
as a Chinese mobile number (a landline or a 400 service number reaches no borrower by SMS); birth date and
region are derived from a valid ID number when not given.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, validates
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from core.businessday.clock import BusinessClock
from core.customers.pii import EncryptedString, blind_index
from core.db.base import Amount, Base
from core.errors import InvalidArgumentError
from core.money import to_decimal

ID_NUMBER_PURPOSE = "customers.id_number"
PHONE_PURPOSE = "customers.phone"
#: one purpose for every address (a customer's home, an enterprise's registered or operating address): the
#: link analysis matches them across tables
ADDRESS_PURPOSE = "parties.address"
MAX_ADDRESS = 200
MAX_NAME = 50


INDIVIDUAL = "individual"
ENTERPRISE = "enterprise"
#: the kinds of customer, as products declare them (``customer_type``)
CUSTOMER_KINDS = (INDIVIDUAL, ENTERPRISE)


@dataclass(frozen=True)
class PartyRef:
    """Which customer a record is about: an individual (``customers.id``) or an enterprise (``enterprises.id``).
    Tables that hold either carry two nullable keys, exactly one set: :meth:`columns` gives their values."""

    kind: str
    id: int

    def __post_init__(self) -> None:
        if self.kind not in CUSTOMER_KINDS:
            raise InvalidCustomerError(f"kind: must be one of {', '.join(CUSTOMER_KINDS)}", field="kind",
                                       value=self.kind)

    def columns(self) -> dict[str, int | None]:
        """``{"customer_id": ..., "enterprise_id": ...}`` with the other key ``None``."""
        return {"customer_id": self.id if self.kind == INDIVIDUAL else None,
                "enterprise_id": self.id if self.kind == ENTERPRISE else None}

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class InvalidCustomerError(InvalidArgumentError):
    """A customer field is invalid (bad ID number checksum, not a Chinese phone number, empty name...);
    ``field`` names it."""


#: checked values kept per process: an application checks the same ID number and phone more than once (the
#: request, then the customer row), and a check reads stdnum's region table or phonenumbers' metadata
CHECKED_VALUES = 4096


@lru_cache(maxsize=CHECKED_VALUES)
def _valid_id_number(value: str) -> str:
    """``ric.validate`` with the region table read once per region code and birth year (the only parts of a
    number its birth place depends on) instead of once per number."""
    number = ric.compact(value)
    if len(number) != 18:
        raise InvalidLength()
    if not isdigits(number[:-1]):
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    ric.get_birth_date(number)
    _birth_place(number[:6], number[6:10])
    return number


@lru_cache(maxsize=CHECKED_VALUES)
def _birth_place(region_code: str, birth_year: str) -> dict[str, str]:
    """The birth place of the numbers starting with ``region_code`` and ``birth_year``; raises
    ``InvalidComponent`` when the table has none for that year (or only a province-level entry, which
    stdnum's table lookup fails on with a ``KeyError``)."""
    try:
        return dict(ric.get_birth_place(f"{region_code}{birth_year}0101000"))
    except KeyError:
        raise InvalidComponent() from None


@lru_cache(maxsize=CHECKED_VALUES)
def _national_phone(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if (number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE):
        return None
    return str(number.national_number)


def normalise_id_number(value: str) -> str:
    """The canonical 18-character resident ID number (upper-case ``X``), or :class:`InvalidCustomerError`."""
    try:
        return _valid_id_number(value)
    except (ValidationError, TypeError, ValueError):
        raise InvalidCustomerError(f"id_number: {value!r} is not a valid resident ID number",
                                   field="id_number", value=value) from None


def normalise_phone(value: str) -> str:
    """The national form of a valid Chinese mobile number (``+86 138-1234-5678`` -> ``13812345678``)."""
    national = _national_phone(value) if isinstance(value, str) else None
    if national is None:
        raise InvalidCustomerError(f"phone: {value!r} is not a valid Chinese mobile number", field="phone",
                                   value=value)
    return national


@lru_cache(maxsize=CHECKED_VALUES)
def birth_date_of(id_number: str) -> date:
    """The birth date a valid, normalised ID number carries."""
    return ric.get_birth_date(id_number)


def region_of(id_number: str) -> str:
    """The birth place a valid, normalised ID number carries (province and county), or its first six digits
    when the region table does not know them."""
    place = _birth_place(id_number[:6], id_number[6:10])
    return place["province"] + place.get("county", "") if place else id_number[:6]


class Customer(Base):
    """A borrower. PII columns are encrypted; look customers up with :func:`find_by_id_number`."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedString("customers.name"))
    id_number: Mapped[str] = mapped_column(EncryptedString("customers.id_number"))
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(EncryptedString("customers.phone"))
    phone_index: Mapped[str] = mapped_column(String(64), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(80))
    monthly_income: Mapped[Decimal | None] = mapped_column(Amount)
    address: Mapped[str | None] = mapped_column(EncryptedString("customers.address"))
    address_index: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if getattr(self, "id_number", None):
            born, region = _born(self.id_number)
            if self.birth_date is None:
                self.birth_date = born
            if self.region is None:
                self.region = region

    @validates("name")
    def _check_name(self, _key: str, value: str) -> str:
        return _checked_name(value)

    @validates("id_number")
    def _check_id_number(self, _key: str, value: str) -> str:
        number, self.id_number_index = _indexed_id_number(value)
        return number

    @validates("phone")
    def _check_phone(self, _key: str, value: str) -> str:
        phone, self.phone_index = _indexed_phone(value)
        return phone

    @validates("address")
    def _check_address(self, _key: str, value: str | None) -> str | None:
        address, self.address_index = indexed_address(value, "address")
        return address

    @validates("monthly_income")
    def _check_income(self, _key: str, value: object) -> Decimal | None:
        return _checked_income(value)

    @validates("birth_date")
    def _check_birth_date(self, _key: str, value: date | None) -> date | None:
        return _checked_birth_date(value)


def new_customer_values(*, name: str, id_number: str, phone: str, monthly_income: object) -> dict[str, Any]:
    """The column values of a new :class:`Customer` (blind indexes, birth date and region derived), checked
    and normalised as its validators do, for a caller that inserts the row with a Core statement: building
    the ORM object costs more than the insert."""
    number, number_index = _indexed_id_number(id_number)
    national, phone_index = _indexed_phone(phone)
    born, region = _born(number)
    return {"name": _checked_name(name), "id_number": number, "id_number_index": number_index, "phone": national,
            "phone_index": phone_index, "birth_date": _checked_birth_date(born), "region": region,
            "monthly_income": _checked_income(monthly_income)}


def _indexed_id_number(value: str) -> tuple[str, str]:
    """The normalised ID number and its blind index."""
    number = normalise_id_number(value)
    return number, blind_index(number, ID_NUMBER_PURPOSE)


def _indexed_phone(value: str) -> tuple[str, str]:
    """The normalised phone number and its blind index."""
    phone = normalise_phone(value)
    return phone, blind_index(phone, PHONE_PURPOSE)


def normalise_address(value: object, field: str) -> str:
    """An address as compared: NFKC (full-width digits and letters made plain), runs of white space made one
    space, trimmed; at most :data:`MAX_ADDRESS` characters, or :class:`InvalidCustomerError` on ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCustomerError(f"{field}: must not be empty", field=field, value=value)
    address = " ".join(unicodedata.normalize("NFKC", value).split())
    if len(address) > MAX_ADDRESS:
        raise InvalidCustomerError(f"{field}: at most {MAX_ADDRESS} characters", field=field, value=value)
    return address


def indexed_address(value: str | None, field: str) -> tuple[str | None, str | None]:
    """The normalised address and its blind index (``None`` twice for no address)."""
    if value is None:
        return None, None
    address = normalise_address(value, field)
    return address, blind_index(address, ADDRESS_PURPOSE)


def _born(id_number: str) -> tuple[date, str]:
    """The birth date and birth place a valid, normalised ID number carries."""
    return birth_date_of(id_number), region_of(id_number)


def _checked_name(value: str) -> str:
    return checked_name(value, "name", MAX_NAME)


def checked_name(value: object, field: str, max_length: int) -> str:
    """A name trimmed, not empty and at most ``max_length`` characters, or :class:`InvalidCustomerError`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCustomerError(f"{field}: must not be empty", field=field, value=value)
    if len(value.strip()) > max_length:
        raise InvalidCustomerError(f"{field}: at most {max_length} characters", field=field, value=value)
    return value.strip()


def _checked_income(value: object) -> Decimal | None:
    if value is None:
        return None
    income = to_decimal(value, "monthly_income")
    if income < 0:
        raise InvalidCustomerError("monthly_income: must not be negative", field="monthly_income", value=value)
    return income


def _checked_birth_date(value: date | None) -> date | None:
    if value is not None and value > BusinessClock().today():  # a birth date is no matter of configured zones
        raise InvalidCustomerError("birth_date: is in the future", field="birth_date", value=value)
    return value


def find_by_id_number(session: Session, id_number: str) -> Customer | None:
    """The customer with this resident ID number, through its blind index."""
    index = blind_index(normalise_id_number(id_number), ID_NUMBER_PURPOSE)
    return session.scalar(select(Customer).where(Customer.id_number_index == index))


def find_by_phone(session: Session, phone: str) -> list[Customer]:
    """The customers with this phone number (a number may be shared), through its blind index."""
    index = blind_index(normalise_phone(phone), PHONE_PURPOSE)
    return list(session.scalars(select(Customer).where(Customer.phone_index == index).order_by(Customer.id)))
