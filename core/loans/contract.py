"""The contract a loan is serviced under, as booked in ``Loan.terms``.

At disbursement the loan keeps a JSON snapshot of everything servicing needs, so nothing later reads a
product table (a product version may be superseded; the contract may not):

.. code-block:: json

    {"schedule": {"principal": "12000.00", "annual_rate": "0.12", "periods": 12, "start_date": "2026-01-15",
                  "method": "equal_installment", "frequency": "monthly", "day_count": "ACT/360", ...},
     "penalty": {"multiplier": "1.5", "daily_rate": null, "compound": false, "grace_days": 0,
                 "grace_retroactive": true},
     "allocation": {"order": ["penalty", "fee", "interest", "principal"], "basis": "installment"},
     "prepayment": {"allowed": true, "fee_rate": "0.02", "min_fee": "0", "free_after_periods": null,
                    "earliest_period": 3, "earliest_unit": "installment"}}

``schedule`` holds every :class:`~core.schedule.LoanTerms` field (money and rates as strings, dates ISO);
the other sections are optional and default as documented on their classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from core.errors import InvalidArgumentError
from core.loans.allocation import AllocationOrder
from core.loans.penalty import PenaltyPolicy
from core.money import to_decimal
from core.rounding import round_money
from core.schedule import LoanTerms

ZERO = Decimal(0)
#: what a prepayment window counts: installments, or (a bullet loan) its product's term unit
WINDOW_UNITS = ("installment", "day", "week", "month")


@dataclass(frozen=True)
class PrepaymentRules:
    """Whether prepayment is allowed, from when, and what it costs.

    Args:
        allowed: prepayment is the borrower's right (民法典 Art. 677) unless the contract says otherwise.
        fee_rate: the fee as a fraction of the principal prepaid (0 to 0.1).
        min_fee: the smallest fee charged on a prepayment with a fee.
        free_after_periods: no fee once this many installments have fallen due (``None``: never free).
        earliest_period, earliest_unit: the window (the product's ``prepayment.earliest_period``), read by
            :func:`core.loans.prepayment.prepayment_opens_on`. Counted in installments, prepayment
            is accepted from the due date of installment ``earliest_period`` on (from disbursement when it
            is 1, the default: no window); a bullet loan counts it in its product's term unit (``day``,
            ``week`` or ``month``) from disbursement.

    Raises:
        InvalidArgumentError: a value out of range (field ``prepayment.<name>``).
    """

    allowed: bool = True
    fee_rate: Decimal = ZERO
    min_fee: Decimal = ZERO
    free_after_periods: int | None = None
    earliest_period: int = 1
    earliest_unit: str = "installment"

    def __post_init__(self) -> None:
        rate = to_decimal(self.fee_rate, "prepayment.fee_rate")
        minimum = to_decimal(self.min_fee, "prepayment.min_fee")
        if not 0 <= rate <= Decimal("0.1"):
            raise InvalidArgumentError(f"prepayment.fee_rate: must be between 0 and 0.1 (got {rate})",
                                       field="prepayment.fee_rate", value=rate)
        if minimum < 0:
            raise InvalidArgumentError(f"prepayment.min_fee: must not be negative (got {minimum})",
                                       field="prepayment.min_fee", value=minimum)
        if self.free_after_periods is not None and self.free_after_periods < 0:
            raise InvalidArgumentError("prepayment.free_after_periods: must not be negative",
                                       field="prepayment.free_after_periods", value=self.free_after_periods)
        if self.earliest_period < 1:
            raise InvalidArgumentError("prepayment.earliest_period: must be at least 1",
                                       field="prepayment.earliest_period", value=self.earliest_period)
        if self.earliest_unit not in WINDOW_UNITS:
            raise InvalidArgumentError(f"prepayment.earliest_unit: must be one of {', '.join(WINDOW_UNITS)}",
                                       field="prepayment.earliest_unit", value=self.earliest_unit)
        object.__setattr__(self, "fee_rate", rate)
        object.__setattr__(self, "min_fee", minimum)

    def fee(self, principal_prepaid: Decimal, periods_fallen_due: int) -> Decimal:
        """The fee for prepaying ``principal_prepaid`` after ``periods_fallen_due`` installments, in fen."""
        if self.free_after_periods is not None and periods_fallen_due >= self.free_after_periods:
            return ZERO
        if self.fee_rate == 0:
            return ZERO
        return max(round_money(principal_prepaid * self.fee_rate), self.min_fee)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object] | None) -> PrepaymentRules:
        if not data:
            return cls()
        free = data.get("free_after_periods")
        return cls(allowed=bool(data.get("allowed", True)),
                   fee_rate=to_decimal(data.get("fee_rate", "0"), "prepayment.fee_rate"),
                   min_fee=to_decimal(data.get("min_fee", "0"), "prepayment.min_fee"),
                   free_after_periods=None if free is None else int(str(free)),
                   earliest_period=int(str(data.get("earliest_period", 1))),
                   earliest_unit=str(data.get("earliest_unit", "installment")))

    def as_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "fee_rate": str(self.fee_rate), "min_fee": str(self.min_fee),
                "free_after_periods": self.free_after_periods, "earliest_period": self.earliest_period,
                "earliest_unit": self.earliest_unit}


@dataclass(frozen=True)
class ServicingRules:
    """Penalty, allocation and prepayment rules of one loan's contract."""

    penalty: PenaltyPolicy = field(default_factory=PenaltyPolicy)
    allocation: AllocationOrder = field(default_factory=AllocationOrder)
    prepayment: PrepaymentRules = field(default_factory=PrepaymentRules)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ServicingRules:
        """Read the ``penalty``, ``allocation`` and ``prepayment`` sections of a contract snapshot."""
        return cls(PenaltyPolicy.from_mapping(data.get("penalty")),
                   AllocationOrder.from_mapping(data.get("allocation")),
                   PrepaymentRules.from_mapping(data.get("prepayment")))

    def as_dict(self) -> dict[str, Any]:
        return {"penalty": self.penalty.as_dict(),
                "allocation": {"order": [c.value for c in self.allocation.components],
                               "basis": self.allocation.basis.value},
                "prepayment": self.prepayment.as_dict()}


def terms_to_json(terms: LoanTerms) -> dict[str, Any]:
    """``terms`` as JSON-ready data (money and rates as strings, enums by value, dates ISO)."""
    out: dict[str, Any] = {}
    for spec in fields(terms):
        value = getattr(terms, spec.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, (Decimal, date)):
            value = str(value)
        out[spec.name] = value
    return out


def terms_from_json(data: Mapping[str, Any]) -> LoanTerms:
    """The :class:`LoanTerms` saved by :func:`terms_to_json`; validated again on the way in."""
    values = dict(data)
    values["start_date"] = date.fromisoformat(str(values["start_date"]))
    for name in ("principal", "annual_rate", "fee_per_period", "upfront_fee"):
        if name in values:
            values[name] = to_decimal(values[name], name)
    return LoanTerms(**values)


def contract_json(terms: LoanTerms, rules: ServicingRules) -> dict[str, Any]:
    """The snapshot stored in ``Loan.terms``."""
    return {"schedule": terms_to_json(terms), **rules.as_dict()}


def loan_terms(snapshot: Mapping[str, Any]) -> LoanTerms:
    """The schedule terms of a contract snapshot (field ``terms.schedule`` when missing)."""
    schedule = snapshot.get("schedule")
    if not isinstance(schedule, Mapping):
        raise InvalidArgumentError("terms.schedule: the loan's contract snapshot has no schedule terms",
                                   field="terms.schedule")
    return terms_from_json(schedule)
