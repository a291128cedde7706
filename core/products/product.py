"""A product definition read through typed accessors.

:class:`Product` wraps a document that passed the schema (see :func:`core.products.validate_product`)
and answers the questions the rest of the system asks: the allowed amounts, terms and methods, the rate
for a score, the fees due at each moment, and the :class:`~core.schedule.LoanTerms` and repayment
schedule of a given loan. Amounts and rates come back as :class:`~decimal.Decimal`; a value that was a
JSON number or a string in the document is read the same way.

Term units map onto schedule periods as follows: a term in days is a ``daily`` bullet of that many days;
a term in weeks is that many weekly periods (half as many bi-weekly ones); a term in months is that many
monthly periods (a third as many quarterly ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from core.daycount import DayCount
from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.products.problems import exact_numbers
from core.rounding import Rounding, round_money
from core.schedule import (
    DueDayRule,
    FirstPeriod,
    Frequency,
    GraceType,
    LoanTerms,
    Method,
    RescheduleMode,
    Schedule,
    build_schedule,
)

#: the Civil Code Art. 561 order: costs (penalty, fees), then interest, then principal
DEFAULT_ALLOCATION = ("penalty", "fee", "interest", "principal")
DEFAULT_APR_CAP = Decimal("0.24")
MAX_ENUMERATED_TERMS = 1000


@dataclass(frozen=True)
class Range:
    """A min/max/step/default triple; ``step`` is ``None`` for a continuous range."""

    min: Decimal
    max: Decimal
    default: Decimal
    step: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        """Whether ``value`` lies in the range and on its step grid."""
        if not self.min <= value <= self.max:
            return False
        return self.step is None or (value - self.min) % self.step == 0


@dataclass(frozen=True)
class Fee:
    """One fee of the product; ``value`` is an amount (``fixed``) or a fraction (percent bases)."""

    code: str
    name_zh: str
    name_en: str
    when: str
    basis: str
    value: Decimal

    def amount(self, principal: Decimal, outstanding: Decimal, rounding: Rounding) -> Decimal:
        """The fee in yuan, rounded to the fen, for a loan of ``principal`` with ``outstanding`` left."""
        if self.basis == "fixed":
            return self.value
        base = principal if self.basis == "percent_of_principal" else outstanding
        return round_money(base * self.value, rounding)


class Product:
    """Typed, read-only access to a schema-valid product document.

    The document is not changed after construction (published versions are immutable, a draft gets a new
    :class:`Product` per edit), so what every loan of the product reads (its fees, rate, frequency,
    day count and rounding) is parsed once per instance.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document: Mapping[str, Any] = exact_numbers(document)

    # -- identity ----------------------------------------------------------------------------------
    @property
    def code(self) -> str:
        return str(self.document["code"])

    @property
    def name_zh(self) -> str:
        return str(self.document["name"]["zh"])

    @property
    def name_en(self) -> str:
        return str(self.document["name"]["en"])

    @property
    def customer_type(self) -> str:
        return str(self.document["customer_type"])

    @property
    def currency(self) -> str:
        return str(self.document["currency"])

    # -- what may be lent --------------------------------------------------------------------------
    @property
    def amount(self) -> Range:
        spec = self.document["amount"]
        return Range(_dec(spec["min"]), _dec(spec["max"]), _dec(spec["default"]), _dec(spec["step"]))

    @property
    def term_unit(self) -> str:
        return str(self.document["term"]["unit"])

    @property
    def term_default(self) -> int:
        return int(self.document["term"]["default"])

    def terms(self) -> list[int]:
        """Every allowed term, ascending (the listed values, or min..max by step)."""
        spec = self.document["term"]
        if "values" in spec:
            return sorted(int(v) for v in spec["values"])
        low, high, step = int(spec["min"]), int(spec["max"]), int(spec.get("step", 1))
        if (high - low) // step + 1 > MAX_ENUMERATED_TERMS:
            raise InvalidArgumentError(f"term: more than {MAX_ENUMERATED_TERMS} allowed terms", field="term")
        return list(range(low, high + 1, step))

    @cached_property
    def rate(self) -> Range:
        spec = self.document["rate"]["annual"]
        return Range(_dec(spec["min"]), _dec(spec["max"]), _dec(spec["default"]))

    def risk_bands(self) -> list[tuple[int, int, Decimal]]:
        """The risk-based bands as ``(score_min, score_max, annual_rate)``, by lowest score."""
        bands = self.document["rate"].get("risk_bands", [])
        return sorted((int(b["score_min"]), int(b["score_max"]), _dec(b["annual_rate"])) for b in bands)

    def rate_for_score(self, score: int | None) -> Decimal:
        """The annual rate for an applicant scoring ``score``: its band's rate, else the default rate."""
        if score is not None:
            for low, high, rate in self.risk_bands():
                if low <= score <= high:
                    return rate
        return self.rate.default

    # -- how it is repaid --------------------------------------------------------------------------
    @property
    def methods(self) -> list[Method]:
        return [Method(m) for m in self.document["repayment"]["methods"]]

    @property
    def default_method(self) -> Method:
        return Method(self.document["repayment"].get("default_method", self.methods[0]))

    @cached_property
    def frequency(self) -> Frequency:
        return Frequency(self.document["repayment"]["frequency"])

    @cached_property
    def day_count(self) -> DayCount:
        return DayCount.parse(self.document["day_count"])

    @cached_property
    def rounding(self) -> Rounding:
        return Rounding.parse(self.document["repayment"].get("rounding", "half_up"))

    @property
    def reschedule_mode(self) -> RescheduleMode:
        return RescheduleMode(self.document["prepayment"].get("reschedule_mode", "keep_term"))

    @property
    def allocation_order(self) -> tuple[str, ...]:
        return tuple(self.document.get("allocation_order", DEFAULT_ALLOCATION))

    @property
    def overdue_grace_days(self) -> int:
        return int(self.document["overdue_grace_days"])

    def periods(self, term: int) -> int:
        """Schedule periods for ``term`` in the product's unit at its frequency.

        Raises:
            InvalidArgumentError: the term does not divide into whole periods of the frequency.
        """
        per = {Frequency.BIWEEKLY: 2, Frequency.QUARTERLY: 3}.get(self.frequency, 1)
        if term % per:
            raise InvalidArgumentError(
                f"term: {term} {self.term_unit}s is not a whole number of {self.frequency.value} periods",
                field="term", value=term)
        return term // per

    # -- fees --------------------------------------------------------------------------------------
    def fees(self, when: str | None = None) -> list[Fee]:
        """The product's fees, or only those charged ``when`` (upfront, per_installment...)."""
        return [f for f in self._fees if when is None or f.when == when]

    @cached_property
    def _fees(self) -> tuple[Fee, ...]:
        return tuple(Fee(f["code"], f["name"]["zh"], f["name"]["en"], f["when"], f["basis"], _dec(f["value"]))
                     for f in self.document["fees"])

    def upfront_fee(self, principal: Decimal) -> Decimal:
        """All upfront fees for a loan of ``principal`` (percent bases on the principal)."""
        return sum((f.amount(principal, principal, self.rounding) for f in self.fees("upfront")), Decimal(0))

    def prepayment_fee(self, principal: Decimal, prepaid: Decimal) -> Decimal:
        """Fees charged on prepaying ``prepaid`` of a loan of ``principal``."""
        return sum((f.amount(principal, prepaid, self.rounding) for f in self.fees("on_prepayment")), Decimal(0))

    # -- loans -------------------------------------------------------------------------------------
    def loan_terms(self, amount: object, term: int, method: Method | str, start_date: date,
                   annual_rate: object | None = None) -> LoanTerms:
        """The :class:`LoanTerms` of a loan of ``amount`` over ``term`` units with ``method``.

        Per-installment fees that do not depend on the outstanding balance go into ``fee_per_period``
        and upfront fees into ``upfront_fee``; :meth:`schedule` adds the balance-based ones.

        Raises:
            InvalidArgumentError: the loan cannot be built (see :class:`LoanTerms`), naming the field.
        """
        principal = to_decimal(amount, "amount")
        repayment = self.document["repayment"]
        rounding = self.rounding
        fixed_per_period = sum((f.amount(principal, principal, rounding) for f in self.fees("per_installment")
                                if f.basis != "percent_of_outstanding"), Decimal(0))
        frequency = self.frequency
        return LoanTerms(
            principal=principal,
            annual_rate=to_decimal(annual_rate if annual_rate is not None else self.rate.default, "annual_rate"),
            periods=self.periods(term),
            start_date=start_date,
            method=Method(method),
            frequency=frequency,
            day_count=self.day_count,
            due_day_rule=DueDayRule(repayment["due_day_rule"]),
            repayment_day=repayment.get("repayment_day"),
            first_period=FirstPeriod(repayment.get("first_period", "actual_days")),
            grace_periods=int(repayment.get("grace_periods", 0)) if Method(method) in _AMORTISING else 0,
            grace_type=GraceType(repayment.get("grace_type", "interest_only")),
            fee_per_period=fixed_per_period,
            upfront_fee=self.upfront_fee(principal),
            rounding=rounding,
        )

    def schedule(self, amount: object, term: int, method: Method | str, start_date: date,
                 annual_rate: object | None = None) -> Schedule:
        """The repayment schedule of the loan, every per-installment fee included.

        A ``percent_of_outstanding`` fee is charged on the principal outstanding at the start of each
        period that has a payment.
        """
        return self.schedule_of(self.loan_terms(amount, term, method, start_date, annual_rate))

    def schedule_of(self, terms: LoanTerms) -> Schedule:
        """The repayment schedule of ``terms`` (a loan of this product), every per-installment fee included."""
        built = build_schedule(terms)
        by_balance = [f for f in self.fees("per_installment") if f.basis == "percent_of_outstanding"]
        if not by_balance:
            return built
        rows = []
        for row in built.installments:
            if row.total == 0:
                rows.append(row)
                continue
            opening = row.remaining_principal + row.principal
            extra = sum((f.amount(built.terms.principal, opening, self.rounding) for f in by_balance), Decimal(0))
            rows.append(row._replace(fee=row.fee + extra, total=row.total + extra))
        return replace(built, installments=tuple(rows))

    @property
    def credit_limits(self) -> tuple[Decimal, int]:
        """The largest outstanding principal per customer and the most live loans per customer."""
        limits = self.document["credit_limits"]
        return _dec(limits["max_outstanding_per_customer"]), int(limits["max_concurrent_loans"])

    @property
    def apr_cap(self) -> tuple[Decimal, str]:
        """The APR cap and its basis (``nominal_irr`` or ``effective_irr``)."""
        cap = self.document.get("compliance", {}).get("apr_cap", {})
        return _dec(cap.get("rate", DEFAULT_APR_CAP)), str(cap.get("basis", "nominal_irr"))


_AMORTISING = (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL)


def _dec(value: object) -> Decimal:
    return to_decimal(value, "value") if not isinstance(value, Decimal) else value
