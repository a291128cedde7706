"""APR (PBoC 〔2021〕No. 3: periodic IRR × periods per year) and the effective annual rate, by hand.

Two monthly installments make the IRR a quadratic: with v = 1/(1+r), a₂·v² + a₁·v − outlay = 0, so
v = (−a₁ + √(a₁² + 4·a₂·outlay)) / (2·a₂). The loan: 3,000.00 at 12%, 2 months, installments
1522.54 and 1522.53 (see the matrix tests).
"""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import AprNotConvergedError
from core.schedule import LoanTerms, build_schedule
from core.schedule.apr import periodic_irr, schedule_apr, schedule_cash_flows

D = Decimal
START = date(2026, 1, 15)


def two_months(**fees):
    return build_schedule(LoanTerms(D("3000.00"), D("0.12"), 2, START, **fees))


def test_no_fees__apr_is_the_nominal_rate_to_rounding():
    """−3000 + 1522.54 v + 1522.53 v² = 0 → r = 0.0099989862, APR = 12 r = 0.119988 (the fen of
    residue makes it a hair under 12%); EAR = 1.0099989862^12 − 1 = 0.126811."""
    result = schedule_apr(two_months())
    assert (result.apr, result.effective_annual_rate) == (D("0.119988"), D("0.126811"))
    assert abs(result.periodic_irr - D("0.0099989862")) < D("1e-10")


def test_upfront_fee__paid_at_disbursement_raises_the_apr_to_20_16pct():
    """The borrower pays 30.00 at disbursement, so the lender's net outlay is 2970.00:
    r = 0.0168040775, APR = 0.201649, EAR = 0.221370."""
    schedule = two_months(upfront_fee=D("30.00"))
    assert schedule_cash_flows(schedule) == [D("-2970.00"), D("1522.54"), D("1522.53")]
    result = schedule_apr(schedule)
    assert (result.apr, result.effective_annual_rate) == (D("0.201649"), D("0.221370"))


def test_fee_per_period__5_a_month_raises_the_apr_to_14_66pct():
    """Installments 1527.54 and 1527.53: r = 0.0122130823, APR = 0.146557, EAR = 0.156814."""
    result = schedule_apr(two_months(fee_per_period=D("5.00")))
    assert (result.apr, result.effective_annual_rate) == (D("0.146557"), D("0.156814"))


def test_daily_bullet__30_days_is_annualised_by_365_over_30():
    """3,000 at 12% for 30 days (ACT/360): 3030.00 at maturity, r = 1% for the period,
    APR = 1% × 365/30 = 0.121667, EAR = 1.01^(365/30) − 1 = 0.128695."""
    schedule = build_schedule(LoanTerms(D("3000.00"), D("0.12"), 30, START, "bullet", "daily"))
    result = schedule_apr(schedule)
    assert abs(result.periodic_irr - D("0.01")) < D("1e-15")
    assert (result.apr, result.effective_annual_rate) == (D("0.121667"), D("0.128695"))


def test_irr_of_gitmans_textbook_flows_is_28_095pct():
    """Gitman, Principles of Managerial Finance (cited by numpy-financial): −100, 39, 59, 55, 20 → 0.28095."""
    assert round(periodic_irr([D(-100), D(39), D(59), D(55), D(20)]), 5) == D("0.28095")


def test_zero_rate_without_fees_has_zero_apr():
    schedule = build_schedule(LoanTerms(D("1200.00"), D(0), 12, START))
    assert schedule_apr(schedule).apr == 0


@pytest.mark.parametrize(
    "flows",
    [
        [D(100), D(10)],  # nothing lent
        [D(-100), D(-10)],  # nothing repaid
        [D(-100), D(300), D(-250)],  # −100 + 300v − 250v² has no real root
    ],
    ids=["no-outflow", "no-inflow", "no-real-root"],
)
def test_flows_without_an_irr_raise_apr_not_converged(flows):
    with pytest.raises(AprNotConvergedError):
        periodic_irr(flows)
