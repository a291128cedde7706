"""An application request, checked whole against its product before anything is written.

:func:`parse_application` reads the request document a channel sent (amount, term, method, applicant,
collateral, consents) and returns an :class:`ApplicationRequest`, or raises
:class:`~core.origination.errors.RequestProblems` listing every bad field by its dotted name
(``applicant.id_number``, ``consents.credit_bureau_query.granted_at``), so the channel can fix them all at
once. Identity data is checked the way the customer table will store it (ID number checksum and birth
date, a valid Chinese mobile number); amounts as :func:`~core.money.parse_money` reads them; a consent's time
as an RFC 3339 date-time that is not in the future (beyond :data:`CLOCK_SKEW`, the channel's clock may run a
little ahead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.businessday.clock import local_date
from core.customers.inputs import EnterpriseFile, bank_account, parse_enterprise
from core.customers.parties import ENTERPRISE, birth_date_of, normalise_id_number, normalise_phone
from core.errors import InputError, InvalidArgumentError
from core.inputs import FieldChecker, parse_datetime
from core.money import parse_money
from core.origination.catalog import REQUIRED_CONSENTS, Offer
from core.origination.errors import RequestProblems
from core.products.credit_line import is_credit_line

TOP_FIELDS = {"external_id", "amount", "term", "method", "purpose", "applicant", "enterprise", "collateral", "consents"}
APPLICANT_FIELDS = {"name", "id_number", "phone", "monthly_income", "monthly_debt_payments", "employment_years",
                    "housing", "occupation", "dependants", "bank_account"}
HOUSING = ("own", "rent", "free")
OCCUPATIONS = ("unemployed", "unskilled", "skilled", "management")
CONSENT_FIELDS = {"granted_at", "reference", "purpose"}
COLLATERAL_FIELDS = {"type", "appraised_value", "description"}
#: how far ahead of the lender's clock a consent's time may be
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Applicant:
    """The applicant as the request gave them, normalised."""

    name: str
    id_number: str
    phone: str
    birth_date: date
    monthly_income: Decimal
    bank_account: dict[str, str]
    monthly_debt_payments: Decimal = Decimal(0)
    employment_years: Decimal | None = None
    housing: str | None = None
    occupation: str | None = None
    dependants: int | None = None

    def age_on(self, day: date) -> int:
        """Whole years of age on ``day``."""
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True)
class ApplicationRequest:
    """A checked application: the loan asked for, the applicant, collateral and consents."""

    amount: Decimal
    term: int
    method: str
    applicant: Applicant
    consents: dict[str, dict[str, str]]
    collateral: dict[str, Any] | None = None
    external_id: str | None = None
    purpose: str | None = None
    #: the borrowing enterprise, for a product whose ``customer_type`` is ``enterprise`` (the applicant is then
    #: its legal representative)
    enterprise: EnterpriseFile | None = None

    @property
    def collateral_value(self) -> Decimal:
        return Decimal(self.collateral["appraised_value"]) if self.collateral else Decimal(0)


def _applicant(check: FieldChecker, data: Any, offer: Offer, today: date) -> Applicant | None:
    prefix = "applicant."
    if not isinstance(data, Mapping):
        check.bad("applicant", "is required and must be an object")
        return None
    before = len(check.problems)
    check.unknown(data, APPLICANT_FIELDS, prefix)
    for required in offer.required_applicant_fields:
        if data.get(required) is None:
            check.bad(prefix + required, "is required by this product")
    name = check.text(data, "name", prefix, required=False, max_length=50)
    id_number = phone = None
    birth = None
    if isinstance(data.get("id_number"), str):
        try:
            id_number = normalise_id_number(data["id_number"])
            birth = birth_date_of(id_number)
            if birth > today:
                raise InvalidArgumentError("birth date in the future")
        except (InvalidArgumentError, ValueError):
            check.bad(prefix + "id_number", "is not a valid resident ID number (checksum, birth date)")
    elif data.get("id_number") is not None:
        check.bad(prefix + "id_number", "must be a string of 18 characters")
    if isinstance(data.get("phone"), str):
        try:
            phone = normalise_phone(data["phone"])
        except InvalidArgumentError:
            check.bad(prefix + "phone", "is not a valid Chinese mobile number")
    elif data.get("phone") is not None:
        check.bad(prefix + "phone", "must be a string")
    income = check.money(data, "monthly_income", prefix, required=False)
    debts = check.money(data, "monthly_debt_payments", prefix, required=False)
    years = data.get("employment_years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, (int, Decimal))
                              or not 0 <= years <= 60):
        check.bad(prefix + "employment_years", "must be a number from 0 to 60")
    housing = check.choice(data, "housing", prefix, HOUSING)
    occupation = check.choice(data, "occupation", prefix, OCCUPATIONS)
    dependants = data.get("dependants")
    if dependants is not None and (isinstance(dependants, bool) or not isinstance(dependants, int)
                                   or not 0 <= dependants <= 20):
        check.bad(prefix + "dependants", "must be a whole number from 0 to 20")
    account = bank_account(check, data.get("bank_account"), "applicant.bank_account")
    if len(check.problems) > before or None in (name, id_number, phone, birth, income, account):
        return None
    assert name and id_number and phone and birth and income is not None and account
    return Applicant(name=name, id_number=id_number, phone=phone, birth_date=birth, monthly_income=income,
                     bank_account=account, monthly_debt_payments=debts or Decimal(0),
                     employment_years=Decimal(years) if years is not None else None, housing=housing,
                     occupation=occupation, dependants=dependants)


def _consents(check: FieldChecker, data: Any, now: datetime) -> dict[str, dict[str, str]]:
    if not isinstance(data, Mapping):
        check.bad("consents", "is required and must be an object")
        return {}
    check.unknown(data, set(REQUIRED_CONSENTS), "consents.")
    consents = {}
    for name in REQUIRED_CONSENTS:
        prefix = f"consents.{name}."
        consent = data.get(name)
        if not isinstance(consent, Mapping):
            check.bad(f"consents.{name}", "is required: the applicant's consent with its time and reference")
            continue
        check.unknown(consent, CONSENT_FIELDS, prefix)
        granted = check.text(consent, "granted_at", prefix, required=True, max_length=40)
        reference = check.text(consent, "reference", prefix, required=True, max_length=120)
        purpose = check.text(consent, "purpose", prefix, required=False, max_length=200)
        if granted is not None:
            try:
                if parse_datetime(granted, "granted_at") > now + CLOCK_SKEW:
                    check.bad(prefix + "granted_at", "must not be in the future")
                    granted = None
            except InputError as error:
                check.bad(prefix + "granted_at", error.reason)
                granted = None
        if granted and reference:
            consents[name] = {"granted_at": granted, "reference": reference, "purpose": purpose or name}
    return consents


def _collateral(check: FieldChecker, data: Any, offer: Offer, amount: Decimal | None) -> dict[str, Any] | None:
    if data is None:
        if offer.collateral_required:
            check.bad("collateral", "is required by this product")
        return None
    if not offer.collateral_types:
        check.bad("collateral", "this product takes no collateral")
        return None
    if not isinstance(data, Mapping):
        check.bad("collateral", "must be an object")
        return None
    check.unknown(data, COLLATERAL_FIELDS, "collateral.")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in offer.collateral_types:
        check.bad("collateral.type", f"must be one of {', '.join(sorted(offer.collateral_types))}")
    value = check.money(data, "appraised_value", "collateral.", required=True, allow_zero=False)
    description = check.text(data, "description", "collateral.", required=False, max_length=500)
    if not isinstance(kind, str) or kind not in offer.collateral_types or value is None:
        return None
    if amount is not None:
        max_ltv = offer.collateral_types[kind]
        if amount > value * max_ltv:
            check.bad("collateral.appraised_value", f"the amount exceeds the maximum loan-to-value {max_ltv} "
                                                    f"of {kind} collateral")
        coverage = offer.collateral.get("min_coverage")
        if coverage is not None and value < amount * Decimal(str(coverage)):
            check.bad("collateral.appraised_value", f"must cover at least {coverage} times the amount")
    return {"type": kind, "appraised_value": str(value), "description": description}


def parse_application(offer: Offer, data: Mapping[str, Any], now: datetime, *,
                      line: bool = False) -> ApplicationRequest:
    """Check a channel's application document against ``offer``, sent at ``now`` (aware).

    ``line`` says the document applies for a credit line (:mod:`core.credit_lines.application`, whose offer
    reads the limit range as the amount's); a loan application for a credit-line product, or a line
    application for a loan product, is refused (field ``product``).

    Raises:
        RequestProblems: every bad field, by dotted name.
    """
    if is_credit_line(offer.document) != line:
        raise RequestProblems([("product", f"{offer.code} is a credit-line product: apply for a line, not a loan"
                                if not line else f"{offer.code} is a loan product, not a credit line")])
    check = FieldChecker()
    check.unknown(data, TOP_FIELDS, "")
    asked = ("amount", "term", "method")
    check.problems.extend((name, "is required") for name in asked if name not in data)
    check.problems.extend((name, why) for name, why in offer.check_request(*(data.get(name) for name in asked))
                          if name in data)
    amount = None
    if "amount" in data and not any(f == "amount" for f, _ in check.problems):
        amount = parse_money(data["amount"], positive=True)
    external_id = check.text(data, "external_id", "", required=False, max_length=120)
    purpose = check.text(data, "purpose", "", required=False, max_length=40)
    applicant = _applicant(check, data.get("applicant"), offer, local_date(now))
    consents = _consents(check, data.get("consents"), now)
    collateral = _collateral(check, data.get("collateral"), offer, amount)
    enterprise = _enterprise(check, data.get("enterprise"), offer)
    check.raise_problems(RequestProblems)
    assert applicant is not None and amount is not None
    return ApplicationRequest(amount=amount, term=int(data["term"]), method=str(data["method"]), applicant=applicant,
                              consents=consents, collateral=collateral, external_id=external_id, purpose=purpose,
                              enterprise=enterprise)


def _enterprise(check: FieldChecker, data: Any, offer: Offer) -> EnterpriseFile | None:
    """The borrowing enterprise: required by an enterprise product, refused by an individual one."""
    if offer.product.customer_type != ENTERPRISE:
        if data is not None:
            check.bad("enterprise", "this product lends to individuals: send the applicant only")
        return None
    if data is None:
        check.bad("enterprise", "is required: this product lends to enterprises (the applicant is the legal "
                                "representative)")
        return None
    return parse_enterprise(check, data, "enterprise", with_representative=False)
