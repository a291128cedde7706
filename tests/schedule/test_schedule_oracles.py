"""Independent oracles over a generated grid: numpy-financial (float formulas) and mortgagemath (Decimal).

The grid: principal 100.00 to 5,000,000.00 CNY, nominal rate 0% to 36% a year, 1 to 360 monthly periods.
numpy-financial's ``pmt`` is the closed-form annuity in floats; rounded half-up to the fen it must equal
the regular 等额本息 installment. ``irr`` finds the periodic IRR from the polynomial's roots; × 12 it
must agree with our Decimal APR within 0.0001. mortgagemath amortises the same loan with half-up
rounding of payment and interest and must agree row for row.
"""

import warnings
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from itertools import pairwise

import mortgagemath as mm
import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from core.schedule import LoanTerms, build_schedule
from core.schedule.apr import schedule_apr, schedule_cash_flows

FEN = Decimal("0.01")
principals = st.integers(100_00, 5_000_000_00).map(lambda fen: Decimal(fen) / 100)
rates = st.integers(0, 3600).map(lambda bp: Decimal(bp) / 10000)  # 0.00% .. 36.00% in steps of 0.01%
terms_in_months = st.integers(1, 360)
methods = st.sampled_from(["equal_installment", "equal_principal"])
START = date(2026, 1, 15)


def fen(value: float) -> set[Decimal]:
    """``value`` rounded half-up to the fen; both neighbours when a float sits on a half-fen tie (a float
    cannot say on which side of 354.565 the exact 709.13 / 2 lies)."""
    exact = Decimal(value)
    rounded = {exact.quantize(FEN, ROUND_HALF_UP)}
    if abs((exact * 100) % 1 - Decimal("0.5")) < Decimal("1e-6"):
        rounded |= {exact.quantize(FEN, ROUND_FLOOR), exact.quantize(FEN, ROUND_CEILING)}
    return rounded


@settings(max_examples=80, deadline=None)
@given(principals, rates, terms_in_months)
def test_equal_installment_is_numpy_pmt_rounded_to_the_fen(principal, rate, periods):
    schedule = build_schedule(LoanTerms(principal, rate, periods, START))
    expected = fen(-npf.pmt(float(rate) / 12, periods, float(principal)))
    rows = schedule.installments
    assert rows[0].total in expected or rows[0].remaining_principal == 0
    # every installment before the last is the level one while the balance lasts (a tiny loan whose
    # rounded installment overpays is repaid early: its later installments are 0.00)
    assert len({row.total for row in rows[:-1] if row.remaining_principal > 0} | {rows[0].total}) == 1


@settings(max_examples=80, deadline=None)
@given(principals, rates, terms_in_months, methods)
def test_principal_parts_add_up_exactly_and_nothing_goes_negative(principal, rate, periods, method):
    rows = build_schedule(LoanTerms(principal, rate, periods, START, method)).installments
    assert sum(row.principal for row in rows) == principal
    assert all(row.principal >= 0 and row.interest >= 0 and row.remaining_principal >= 0 for row in rows)
    assert all(a.remaining_principal >= b.remaining_principal for a, b in pairwise(rows))
    assert rows[-1].remaining_principal == 0
    if method == "equal_principal" and periods > 1:
        assert rows[0].principal == (principal / periods).quantize(FEN, ROUND_HALF_UP)


@settings(max_examples=40, deadline=None)
@given(principals, st.integers(1, 3600).map(lambda bp: Decimal(bp) / 10000), terms_in_months)
def test_equal_installment_matches_mortgagemath_row_for_row(principal, rate, periods):
    ours = build_schedule(LoanTerms(principal, rate, periods, START)).installments
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.EarlyPayoffWarning)  # tiny loans repaid early: compared below
        theirs = mm.amortization_schedule(mm.LoanParams(
            principal=principal, annual_rate=rate * 100, term_months=periods,
            payment_rounding=mm.PaymentRounding.ROUND_HALF_UP))[1:]
    assert [(r.principal, r.interest, r.remaining_principal) for r in ours[: len(theirs)]] == [
        (r.principal, r.interest, r.balance) for r in theirs]
    assert all(row.total == 0 for row in ours[len(theirs):])


@settings(max_examples=15, deadline=None)
@given(principals, rates, terms_in_months, methods, st.integers(0, 100), st.integers(0, 300))
def test_apr_agrees_with_numpy_irr_times_12(principal, rate, periods, method, fee_bp, upfront_bp):
    """Fees included: a per-period fee of up to 1% and an upfront fee of up to 3% of the principal."""
    fee = (principal * fee_bp / 10000).quantize(FEN)
    upfront = (principal * upfront_bp / 10000).quantize(FEN)
    schedule = build_schedule(LoanTerms(principal, rate, periods, START, method, fee_per_period=fee,
                                        upfront_fee=upfront))
    with threadpool_limits(1):  # np.roots on a 360-degree polynomial: threads only contend here
        expected = npf.irr([float(flow) for flow in schedule_cash_flows(schedule)]) * 12
    assert abs(float(schedule_apr(schedule).apr) - expected) < 0.0001
