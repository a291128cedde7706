"""The annualised rate of a borrower's real cash flows (年化利率), every fee included.

The lender pays out the principal at time 0 and receives the upfront fee at time 0 (it is paid by the
borrower, never deducted from the principal), then each installment's total. The periodic IRR ``r``
solves ``Σ cf_k / (1 + r)^k = 0``. Following PBoC announcement 〔2021〕No. 3 the annualised rate is
``r × periods per year``; the effective annual rate is ``(1 + r)^periods − 1``.

A bullet loan has a single period whose length sets the periods per year: ``365 / days`` for a loan of
``days`` days, ``12 / months`` for one of whole months.

The solver is Newton's method in ``Decimal`` from the nominal rate, falling back to bisection on a
bracket; it converges to 1e-15 per period or raises :class:`AprNotConvergedError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from core.errors import AprNotConvergedError
from core.schedule.model import Schedule
from core.schedule.terms import Frequency, Method

TOLERANCE = Decimal("1e-15")
MAX_NEWTON_STEPS = 50
MAX_BISECTION_STEPS = 200


@dataclass(frozen=True)
class AprResult:
    """The periodic IRR and its two annualised forms; ``periods_per_year`` may be fractional."""

    periodic_irr: Decimal
    periods_per_year: Decimal

    @property
    def apr(self) -> Decimal:
        """Periodic IRR × periods per year, to 6 decimal places (0.000001 = 0.0001%)."""
        return (self.periodic_irr * self.periods_per_year).quantize(Decimal("0.000001"))

    @property
    def effective_annual_rate(self) -> Decimal:
        """(1 + periodic IRR)^(periods per year) − 1, to 6 decimal places."""
        with localcontext() as ctx:
            ctx.prec = 34
            base = 1 + self.periodic_irr
            value = base ** self.periods_per_year - 1
        return value.quantize(Decimal("0.000001"))


def _npv_and_slope(flows: Sequence[Decimal], rate: Decimal) -> tuple[Decimal, Decimal]:
    discount = 1 / (1 + rate)
    npv = Decimal(0)
    slope = Decimal(0)
    factor = Decimal(1)
    for k, flow in enumerate(flows):
        npv += flow * factor
        slope -= k * flow * factor * discount
        factor *= discount
    return npv, slope


def periodic_irr(flows: Sequence[Decimal], guess: Decimal = Decimal("0.01")) -> Decimal:
    """The per-period IRR of ``flows`` (index = period; flow 0 at time 0).

    Raises:
        AprNotConvergedError: the flows never change sign, or no root was found.
    """
    if not any(f < 0 for f in flows) or not any(f > 0 for f in flows):
        raise AprNotConvergedError("the cash flows need both an outflow and an inflow to have an IRR")
    with localcontext() as ctx:
        ctx.prec = 34
        rate = guess
        for _ in range(MAX_NEWTON_STEPS):
            npv, slope = _npv_and_slope(flows, rate)
            if slope == 0:
                break
            step = npv / slope
            rate -= step
            if rate <= -1:
                break
            if abs(step) < TOLERANCE:
                return +rate
        return _bisect(flows)


def _bisect(flows: Sequence[Decimal]) -> Decimal:
    low, high = Decimal("-0.999999"), Decimal(1)
    npv_low = _npv_and_slope(flows, low)[0]
    while _npv_and_slope(flows, high)[0] * npv_low > 0:
        high *= 2
        if high > 10**6:
            raise AprNotConvergedError("no rate between -100% and 10^8% per period makes the flows' NPV zero")
    for _ in range(MAX_BISECTION_STEPS):
        mid = (low + high) / 2
        npv_mid = _npv_and_slope(flows, mid)[0]
        if abs(high - low) < TOLERANCE:
            return mid
        if (npv_mid < 0) == (npv_low < 0):
            low, npv_low = mid, npv_mid
        else:
            high, _npv_high = mid, npv_mid
    raise AprNotConvergedError("the IRR solver did not converge in 200 bisection steps")


def schedule_cash_flows(schedule: Schedule) -> list[Decimal]:
    """The lender's flows: −principal + upfront fee at time 0, then each installment's total."""
    terms = schedule.terms
    return [terms.upfront_fee - terms.principal] + [row.total for row in schedule.installments]


def schedule_periods_per_year(schedule: Schedule) -> Decimal:
    """Periods per year of the schedule's cash-flow grid (fractional for bullet loans)."""
    terms = schedule.terms
    if terms.method is not Method.BULLET:
        return Decimal(terms.frequency.periods_per_year)
    if terms.frequency is Frequency.DAILY or not terms.frequency.months:
        days = (schedule.maturity_date - terms.start_date).days
        return Decimal(365) / Decimal(days)
    return Decimal(12) / Decimal(terms.frequency.months * terms.periods)


def schedule_apr(schedule: Schedule) -> AprResult:
    """The APR and effective annual rate of ``schedule``'s cash flows."""
    ppy = schedule_periods_per_year(schedule)
    guess = schedule.terms.annual_rate / ppy if schedule.terms.annual_rate else Decimal("0.001")
    return AprResult(periodic_irr(schedule_cash_flows(schedule), guess), ppy)


def schedule_document(schedule: Schedule) -> dict[str, object]:
    """The schedule as JSON-ready data: money as strings with two places, dates ISO 8601, APR included.

    The shape is ``{"installments": [{"period", "due_date", "principal", "interest", "fee", "total",
    "remaining_principal"}], "total_interest", "total_fees", "apr", "effective_annual_rate"}``; rates
    are fractions as strings (``"0.049000"`` for 4.9%).
    """
    apr = schedule_apr(schedule)
    return {
        "installments": [
            {
                "period": i.period,
                "due_date": i.due_date.isoformat(),
                "principal": str(i.principal),
                "interest": str(i.interest),
                "fee": str(i.fee),
                "total": str(i.total),
                "remaining_principal": str(i.remaining_principal),
            }
            for i in schedule.installments
        ],
        "total_interest": str(schedule.total_interest),
        "total_fees": str(schedule.total_fees),
        "apr": str(apr.apr),
        "effective_annual_rate": str(apr.effective_annual_rate),
    }
