"""The contract a loan is serviced under: one typed value, one serialiser, one parser.

A :class:`Contract` is the schedule's :class:`~core.schedule.LoanTerms` and the loan's :class:`ServicingRules`
(penalty, allocation, prepayment, late fees): every charge the loan can bear, the one source the quote, the
APR, the contract document (:mod:`core.loans.disclosure`) and servicing read. It is fixed when the
application is approved (the approved offer carries it, :mod:`core.origination.approved`), printed on the
contract document from the day that is drawn up, and booked at disbursement from the settlement date
(:meth:`Contract.starting`). The loan keeps it in ``Loan.terms``, so nothing later reads a product table (a
version may be superseded; the contract may not).

:meth:`Contract.to_json` is the one serialiser of the stored form and :meth:`Contract.from_json` its one
parser:

.. code-block:: json

    {"schedule": {"principal": "12000.00", "annual_rate": "0.12", "periods": 12, "start_date": "2026-01-15",
                  "method": "equal_installment", "frequency": "monthly", "day_count": "ACT/360", ...},
     "penalty": {"multiplier": "1.5", "daily_rate": null, "compound": false, "grace_days": 0,
                 "grace_retroactive": true},
     "allocation": {"order": ["penalty", "fee", "interest", "principal"], "basis": "installment"},
     "prepayment": {"allowed": true, "fees": [{"code": "prepayment", "name": "提前还款手续费",
                    "basis": "percent_of_outstanding", "value": "0.005"}], "min_fee": "0",
                    "free_after_periods": null, "earliest_period": 3, "earliest_unit": "installment"},
     "late_fees": [{"code": "late", "name": "逾期管理费", "basis": "fixed", "value": "20.00"}]}

``schedule`` holds every :class:`~core.schedule.LoanTerms` field (money and rates as strings, dates ISO,
enums by value). Every key of every section is required (``null`` where a value is optional): a missing or
unparsable one raises :class:`~core.loans.errors.StoredContractError` naming it (``terms.penalty.multiplier``),
never a default.

The end-of-day reads the few settings a day's close needs through :class:`DailySettingsReader`: the same
section parsers, each distinct setting parsed once (a product's loans share them). Its SQL reads the
sections it compares by :data:`SQL_PENALTY` and :data:`SQL_DAY_COUNT` and has them parsed back by
:func:`penalty_of_text` and :func:`day_count_of_text`, here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from core.daycount import DayCount
from core.loans.allocation import AllocationBasis, AllocationOrder, Component
from core.loans.errors import StoredContractError
from core.loans.fees import ContractFee, LateFeeRule, PrepaymentRules
from core.loans.penalty import PenaltyPolicy
from core.records import RecordReader
from core.rounding import Rounding
from core.schedule import DueDayRule, FirstPeriod, Frequency, GraceType, LoanTerms, Method

ZERO = Decimal(0)
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class ServicingRules:
    """Penalty, allocation, prepayment and late-fee rules of one loan's contract."""

    penalty: PenaltyPolicy = field(default_factory=PenaltyPolicy)
    allocation: AllocationOrder = field(default_factory=AllocationOrder)
    prepayment: PrepaymentRules = field(default_factory=PrepaymentRules)
    late_fees: LateFeeRule = field(default_factory=LateFeeRule)


@dataclass(frozen=True)
class Contract:
    """What a loan is serviced under: the schedule's terms and the servicing rules."""

    terms: LoanTerms
    rules: ServicingRules = field(default_factory=ServicingRules)

    def starting(self, start: date) -> Contract:
        """The same contract with its schedule starting on ``start`` (the document's date, the payout's)."""
        if start == self.terms.start_date:
            return self
        return replace(self, terms=replace(self.terms, start_date=start))

    def to_json(self) -> dict[str, Any]:
        """The stored form (module docstring)."""
        return {"schedule": _terms_json(self.terms), "penalty": _penalty_json(self.rules.penalty),
                "allocation": _allocation_json(self.rules.allocation),
                "prepayment": _prepayment_json(self.rules.prepayment),
                "late_fees": _fees_json(self.rules.late_fees.fees)}

    @classmethod
    def from_json(cls, stored: object) -> Contract:
        """The contract :meth:`to_json` stored in ``Loan.terms``.

        Raises:
            StoredContractError: a key is missing or its value does not parse (``field`` names it).
        """
        return cls.read(RecordReader(stored, "terms", StoredContractError))

    @classmethod
    def read(cls, reader: RecordReader) -> Contract:
        """The contract stored as ``reader``'s object (inside another record: errors are that record's)."""
        return cls(_schedule(reader.section("schedule")),
                   ServicingRules(_penalty(reader.section("penalty")), _allocation(reader.section("allocation")),
                                  _prepayment(reader.section("prepayment")),
                                  LateFeeRule(_fees(reader, "late_fees"))))


# -- the sections, each written and read side by side -----------------------------------------------------

def _member(reader: RecordReader, key: str, kind: type[E]) -> E:
    """The member of ``kind`` whose value is stored under ``key`` (exactly: the serialiser wrote it)."""
    return reader.parsed(key, lambda value: kind(value))


def _enum(kind: type[Enum]) -> Callable[[RecordReader, str], object]:
    return lambda reader, key: _member(reader, key, kind)


#: how each :class:`LoanTerms` field is read back (every field, checked by a test)
SCHEDULE_FIELDS: dict[str, Callable[[RecordReader, str], object]] = {
    "principal": RecordReader.decimal, "annual_rate": RecordReader.decimal, "periods": RecordReader.integer,
    "start_date": RecordReader.day, "method": _enum(Method), "frequency": _enum(Frequency),
    "day_count": _enum(DayCount), "due_day_rule": _enum(DueDayRule), "repayment_day": RecordReader.optional_integer,
    "first_period": _enum(FirstPeriod), "grace_periods": RecordReader.integer, "grace_type": _enum(GraceType),
    "fee_per_period": RecordReader.decimal, "upfront_fee": RecordReader.decimal, "rounding": _enum(Rounding),
}


def _terms_json(terms: LoanTerms) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields(terms):
        value = getattr(terms, spec.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, (Decimal, date)):
            value = str(value)
        out[spec.name] = value
    return out


def _schedule(reader: RecordReader) -> LoanTerms:
    values = {name: read(reader, name) for name, read in SCHEDULE_FIELDS.items()}
    return reader.build(lambda: LoanTerms(**values))  # type: ignore[arg-type]


def _penalty_json(policy: PenaltyPolicy) -> dict[str, Any]:
    return {"multiplier": str(policy.multiplier),
            "daily_rate": None if policy.daily_rate is None else str(policy.daily_rate),
            "compound": policy.compound, "grace_days": policy.grace_days,
            "grace_retroactive": policy.grace_retroactive}


def _penalty(reader: RecordReader) -> PenaltyPolicy:
    values = (reader.decimal("multiplier"), reader.optional_decimal("daily_rate"), reader.boolean("compound"),
              reader.integer("grace_days"), reader.boolean("grace_retroactive"))
    return reader.build(lambda: PenaltyPolicy(*values))


def _allocation_json(order: AllocationOrder) -> dict[str, Any]:
    return {"order": [c.value for c in order.components], "basis": order.basis.value}


_ALLOCATION_KEYS = {"allocation_order": "order", "allocation_basis": "basis"}


def _allocation(reader: RecordReader) -> AllocationOrder:
    named = reader.texts("order")
    order = reader.parsed("order", lambda _: tuple(Component(name) for name in named))
    basis_name = reader.text("basis")
    basis = reader.parsed("basis", lambda _: AllocationBasis(basis_name))
    return reader.build(lambda: AllocationOrder(order, basis), _ALLOCATION_KEYS)


def _fees_json(fees: tuple[ContractFee, ...]) -> list[dict[str, Any]]:
    return [{"code": fee.code, "name": fee.name, "basis": fee.basis, "value": str(fee.value)} for fee in fees]


def _fee(reader: RecordReader) -> ContractFee:
    values = (reader.text("code"), reader.text("name"), reader.text("basis"), reader.decimal("value"))
    return reader.build(lambda: ContractFee(*values))


def _fees(reader: RecordReader, key: str) -> tuple[ContractFee, ...]:
    return tuple(_fee(item) for item in reader.sections(key))


def _prepayment_json(rules: PrepaymentRules) -> dict[str, Any]:
    return {"allowed": rules.allowed, "fees": _fees_json(rules.fees), "min_fee": str(rules.min_fee),
            "free_after_periods": rules.free_after_periods, "earliest_period": rules.earliest_period,
            "earliest_unit": rules.earliest_unit}


def _prepayment(reader: RecordReader) -> PrepaymentRules:
    values = (reader.boolean("allowed"), _fees(reader, "fees"), reader.decimal("min_fee"),
              reader.optional_integer("free_after_periods"), reader.integer("earliest_period"),
              reader.text("earliest_unit"))
    return reader.build(lambda: PrepaymentRules(*values))


# -- what the end-of-day reads ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DailySettings:
    """What a day's close reads of a loan's contract (:class:`core.loans.daily.LoanRow`)."""

    annual_rate: Decimal
    basis: int
    rounding: Rounding
    penalty: PenaltyPolicy
    allocation: AllocationOrder
    late_fees: LateFeeRule


class DailySettingsReader:
    """The daily settings of many stored contracts, each distinct setting parsed once.

    The end-of-day reads thousands of contracts a chunk, and a product's loans share their settings: the
    sections are read by the parsers :meth:`Contract.from_json` uses, once per distinct stored setting. The
    rest of a contract (principal, dates) is not read here; it was checked whole when the loan's terms were
    set (:class:`core.loans.models.Loan`).
    """

    def __init__(self) -> None:
        self._seen: dict[Hashable, DailySettings] = {}

    def read(self, stored: object) -> DailySettings:
        """The settings of the contract stored as ``stored``.

        Raises:
            StoredContractError: a key it reads is missing or does not parse.
        """
        try:
            key = _settings_key(stored)
            found = self._seen.get(key)
        except (KeyError, TypeError, AttributeError):  # damaged beyond a key: the parser names what
            return _daily(stored)
        if found is None:
            found = self._seen[key] = _daily(stored)
        return found


def _settings_key(stored: Any) -> Hashable:
    schedule, allocation = stored["schedule"], stored["allocation"]
    return (schedule["annual_rate"], schedule["day_count"], schedule["rounding"], tuple(stored["penalty"].items()),
            tuple(allocation["order"]), allocation["basis"], json.dumps(stored["late_fees"], sort_keys=True))


def _daily(stored: object) -> DailySettings:
    reader = RecordReader(stored, "terms", StoredContractError)
    schedule = reader.section("schedule")
    return DailySettings(schedule.decimal("annual_rate"), _member(schedule, "day_count", DayCount).basis,
                         _member(schedule, "rounding", Rounding), _penalty(reader.section("penalty")),
                         _allocation(reader.section("allocation")), LateFeeRule(_fees(reader, "late_fees")))


#: the stored penalty section and day count as PostgreSQL reads them from ``loans.terms`` of the loan aliased
#: ``l``: a ``json`` column keeps the text :meth:`Contract.to_json` wrote, so loans of one setting read one
#: text; a missing key reads NULL, which the parsers below refuse
SQL_PENALTY = "CAST(l.terms -> 'penalty' AS text)"
SQL_DAY_COUNT = "l.terms -> 'schedule' ->> 'day_count'"
#: how many late fees the contract of the loan aliased ``l`` lists (:class:`~core.loans.fees.LateFeeRule`)
SQL_LATE_FEE_COUNT = "json_array_length(l.terms -> 'late_fees')"


def penalty_of_text(text: str | None) -> PenaltyPolicy:
    """The penalty section as :data:`SQL_PENALTY` reads it, parsed as :meth:`Contract.from_json` parses it.

    Raises:
        StoredContractError: missing, not JSON, or a key missing or unparsable.
    """
    try:
        data: object = None if text is None else json.loads(text)
    except ValueError:
        data = text
    return _penalty(RecordReader(data, "terms.penalty", StoredContractError))


def day_count_of_text(text: str | None) -> DayCount:
    """The day count as :data:`SQL_DAY_COUNT` reads it, parsed as :meth:`Contract.from_json` parses it.

    Raises:
        StoredContractError: missing or unknown.
    """
    return _member(RecordReader({"day_count": text}, "terms.schedule", StoredContractError), "day_count", DayCount)
