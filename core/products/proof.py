"""The APR cap proof: the worst annualised cost any allowed loan can reach, shown to stay under the cap.

The proof prices every combination of the product's allowed space: each allowed term × the amount at
its two extremes (the minimum and the largest amount on the step grid) × the highest annual rate and
every risk band's rate × each repayment method × (for a fixed repayment day) the start dates that give
the shortest, a regular and the longest first period; each one held to maturity and, when prepayment is
allowed, repaid in full at the earliest allowed period with its prepayment fee. The cost is the IRR of
the borrower's real cash flows with every fee but late fees included (:mod:`core.schedule.apr`), annualised on
the product's basis (``nominal_irr``: periodic IRR × periods per year, PBoC 〔2021〕No. 3;
``effective_irr``: compounded).

Amounts in between the extremes differ only through fen rounding, which can cost a small borrower a
little more than a large one. Each combination therefore carries a rounding allowance: one fen per
rounded item (interest, each percentage fee) per installment, over the balance the loan carries, the
first-order change of the IRR. A product passes when the worst APR plus its allowance does not exceed
the cap. The worst case, its parameters and its cash flows are returned so they can be stored with the
version and shown to an auditor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from core.errors import AprNotConvergedError, InvalidArgumentError
from core.products.product import Product
from core.schedule import DueDayRule, Method, Schedule
from core.schedule.apr import AprResult, periodic_irr, schedule_cash_flows, schedule_periods_per_year
from core.schedule.terms import Frequency

REFERENCE_MONTH = (2026, 1)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Case:
    """One priced combination of the allowed space."""

    amount: Decimal
    term: int
    method: Method
    annual_rate: Decimal
    start_date: date
    prepaid_at_period: int | None
    apr: Decimal
    allowance: Decimal
    cash_flows: tuple[Decimal, ...] = field(repr=False)

    @property
    def bound(self) -> Decimal:
        return self.apr + self.allowance

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount), "term": self.term, "method": self.method.value,
            "annual_rate": str(self.annual_rate), "start_date": self.start_date.isoformat(),
            "prepaid_at_period": self.prepaid_at_period, "apr": str(self.apr),
            "rounding_allowance": str(self.allowance), "cash_flows": [str(f) for f in self.cash_flows],
        }


@dataclass(frozen=True)
class AprProof:
    """The outcome of the proof: the cap, its basis, how many cases were priced and the worst one."""

    cap: Decimal
    basis: str
    cases: int
    worst: Case

    @property
    def passed(self) -> bool:
        return self.worst.bound <= self.cap

    def as_dict(self) -> dict[str, Any]:
        return {"cap": str(self.cap), "basis": self.basis, "passed": self.passed, "cases": self.cases,
                "worst": self.worst.as_dict()}


def amount_extremes(product: Product) -> list[Decimal]:
    """The minimum amount and the largest amount reachable on the step grid."""
    spec = product.amount
    high = spec.max
    if spec.step:
        high = spec.min + (spec.max - spec.min) // spec.step * spec.step
    return sorted({spec.min, high})


def rates_to_price(product: Product) -> list[Decimal]:
    """The highest annual rate and every risk band's rate."""
    return sorted({product.rate.max, *(rate for _, _, rate in product.risk_bands())}, reverse=True)


def start_dates(product: Product) -> list[date]:
    """Disbursement dates that produce every possible first period.

    With the same-day rule every period is regular and one date suffices. With a fixed repayment day the
    first period depends on the disbursement day, so every day of one cycle is tried: each day of a
    31-day month (the longest stubs) for monthly and quarterly terms, each day of a week or fortnight
    for weekly and bi-weekly ones.
    """
    year, month = REFERENCE_MONTH
    repayment = product.document["repayment"]
    if repayment["due_day_rule"] != DueDayRule.FIXED_DAY.value or product.frequency is Frequency.DAILY:
        return [date(year, month, 15)]
    cycle = product.frequency.days or 31
    return [date(year, month, 1) + timedelta(days=offset) for offset in range(cycle)]


def _annualise(result: AprResult, basis: str) -> Decimal:
    return result.effective_annual_rate if basis == "effective_irr" else result.apr


def _allowance(product: Product, schedule: Schedule, rows: int, ppy: Decimal) -> Decimal:
    """First-order APR effect of one fen of rounding per rounded item, over the balance carried."""
    per_row = 1 + sum(1 for f in product.fees("per_installment") if f.basis != "fixed")
    one_off = sum(1 for f in product.fees() if f.when in ("upfront", "on_prepayment") and f.basis != "fixed")
    carried = sum((row.remaining_principal + row.principal for row in schedule.installments[:rows]), Decimal(0))
    if carried <= 0:
        return Decimal(0)
    return (FEN * (per_row * rows + one_off) / carried * ppy).quantize(Decimal("0.000001"))


def price_case(product: Product, amount: Decimal, term: int, method: Method, rate: Decimal, start: date,
               prepay_at: int | None, basis: str) -> Case:
    """Price one combination, held to maturity (``prepay_at`` None) or fully prepaid at that period.

    A bullet loan prepaid at period ``k`` has the cash flows of a bullet of term ``k`` plus the fee.
    """
    principal_term = prepay_at if (prepay_at is not None and method is Method.BULLET) else term
    schedule = product.schedule(amount, principal_term, method, start, rate)
    flows = schedule_cash_flows(schedule)
    ppy = schedule_periods_per_year(schedule)
    rows = len(schedule.installments)
    if prepay_at is not None:
        if method is Method.BULLET:
            flows[-1] += product.prepayment_fee(amount, amount)
        else:
            row = schedule.installments[prepay_at - 1]
            flows = flows[:prepay_at + 1]
            flows[-1] += row.remaining_principal + product.prepayment_fee(amount, row.remaining_principal)
            rows = prepay_at
    guess = rate / ppy if rate else Decimal("0.001")
    result = AprResult(periodic_irr(flows, guess), ppy)
    return Case(amount, term, method, rate, start, prepay_at, _annualise(result, basis),
                _allowance(product, schedule, rows, ppy), tuple(flows))


def prepayment_point(product: Product, term: int, method: Method) -> int | None:
    """The earliest period a full prepayment may happen for this term, or None when it cannot."""
    prepayment = product.document["prepayment"]
    if not prepayment["allowed"]:
        return None
    earliest = int(prepayment.get("earliest_period", 1))
    if method is Method.BULLET:
        if earliest >= term:
            return None
        try:
            product.periods(earliest)
        except InvalidArgumentError:
            return None
        return earliest
    return earliest if earliest < product.periods(term) else None


def prove_apr_cap(product: Product) -> AprProof:
    """Price the whole allowed space of ``product`` and return the worst case against its cap.

    Raises:
        InvalidArgumentError: a combination cannot be scheduled (the semantic checks prevent this).
        AprNotConvergedError: the cash flows of a combination have no IRR.
    """
    cap, basis = product.apr_cap
    worst: Case | None = None
    count = 0
    for method in product.methods:
        for term in product.terms():
            for start in start_dates(product):
                for amount in amount_extremes(product):
                    for rate in rates_to_price(product):
                        for prepay_at in {None, prepayment_point(product, term, method)}:
                            case = price_case(product, amount, term, method, rate, start, prepay_at, basis)
                            count += 1
                            if worst is None or case.bound > worst.bound:
                                worst = case
    if worst is None:
        raise AprNotConvergedError("the product allows no loan to price")
    return AprProof(cap, basis, count, worst)
