"""The APR cap proof: its worst cases recomputed independently, and a property over random products."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.products import Product, check_product
from core.schedule import Method
from tests.products.helpers import REGISTRY, sample

FEN = Decimal("0.01")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, ROUND_HALF_UP)


def test_consumer_worst_case_recomputed_by_hand():
    """1,000 at 17% over 24 months, 2.00 service fee a month, prepaid at period 3 with 0.5% of the balance.

    Level installment A = 1000·i/(1 − (1+i)^−24) with i = 0.17/12, rounded to the fen: 49.44. Interest on
    the balance each month, rounded; after three installments the balance is 893.68, so the third payment
    is 49.44 + 2.00 + 893.68 + 4.47 (0.5% of 893.68) = 949.59... The flows' IRR × 12 is the APR.
    """
    report = check_product(sample("consumer_installment.json"), plugins=REGISTRY)
    worst = report.proof.worst
    i = Decimal("0.17") / 12
    level = fen(1000 * i / (1 - (1 + i) ** -24))
    balance = Decimal(1000)
    for _ in range(3):
        balance -= level - fen(balance * i)
    flows = [-1000, level + 2, level + 2, level + 2 + balance + fen(balance * Decimal("0.005"))]
    assert [str(f) for f in worst.cash_flows] == [f"{Decimal(f):.2f}" for f in flows]
    expected = npf.irr([float(f) for f in flows]) * 12
    assert abs(float(worst.apr) - expected) < 1e-6
    assert report.proof.passed and worst.bound <= Decimal("0.24")


def test_bridge_worst_case_is_one_day_of_interest_on_the_smallest_loan():
    """500 lent for one day at 21.6% / 360 costs 0.30: APR = 0.30 / 500 × 365 = 21.9%."""
    worst = check_product(sample("short_term_bridge.json"), plugins=REGISTRY).proof.worst
    assert (worst.amount, worst.prepaid_at_period, worst.apr) == (Decimal("500.00"), 1, Decimal("0.219000"))
    # one fen of rounding on 500 over one day, annualised: 0.01 / 500 × 365
    assert worst.allowance == Decimal("0.007300")


def test_upfront_fee_prepaid_early_breaks_the_cap():
    """A 1% upfront fee repaid after one month adds about 12% a year: 15% becomes about 27%."""
    document = sample("home_improvement.json")
    document["prepayment"]["earliest_period"] = 1
    report = check_product(document, plugins=REGISTRY)
    assert [p.code for p in report.problems] == ["apr.over_cap"]
    assert report.proof.worst.prepaid_at_period == 1 and report.proof.worst.apr > Decimal("0.26")


# -- property: a product that passes has no loan above the cap ------------------------------------------

RATES = st.decimals(min_value=Decimal("0.03"), max_value=Decimal("0.30"), places=4)
SMALL_FRACTIONS = st.decimals(min_value=Decimal(0), max_value=Decimal("0.02"), places=4)


@st.composite
def products(draw):
    document = sample("consumer_installment.json")
    del document["rate"]["risk_bands"]
    method = draw(st.sampled_from([m.value for m in Method]))
    step = draw(st.sampled_from([Decimal(1), Decimal(100), Decimal("0.01")]))
    low = draw(st.integers(min_value=300, max_value=20000))
    high = low + step * draw(st.integers(min_value=0, max_value=5000))
    document["amount"] = {"min": str(low), "max": str(high), "step": str(step), "default": str(low)}
    rate_a, rate_b = sorted([draw(RATES), draw(RATES)])
    document["rate"]["annual"] = {"min": str(rate_a), "max": str(rate_b), "default": str(rate_b)}
    if method == "bullet":
        first = draw(st.integers(min_value=2, max_value=20))
        document["term"] = {"unit": "day", "min": first, "max": first + draw(st.integers(0, 20)), "default": first}
        document["repayment"] = {"methods": ["bullet"], "frequency": "daily", "due_day_rule": "same_day"}
    else:
        values = sorted(draw(st.sets(st.integers(min_value=2, max_value=12), min_size=1, max_size=3)))
        document["term"] = {"unit": "month", "values": values, "default": values[0]}
        repayment = {"methods": [method], "frequency": "monthly", "due_day_rule": "same_day"}
        if draw(st.booleans()):
            repayment.update({"due_day_rule": "fixed_day", "repayment_day": draw(st.integers(1, 28)),
                              "first_period": draw(st.sampled_from(["actual_days", "extra_days"]))})
        document["repayment"] = repayment
    fees = []
    for when, basis in draw(st.sets(st.sampled_from([
        ("upfront", "fixed"), ("upfront", "percent_of_principal"), ("per_installment", "fixed"),
        ("per_installment", "percent_of_principal"), ("per_installment", "percent_of_outstanding"),
        ("on_prepayment", "percent_of_outstanding"), ("on_prepayment", "fixed"),
    ]), max_size=3)):
        value = str(draw(st.integers(0, 300))) if basis == "fixed" else str(draw(SMALL_FRACTIONS))
        fees.append({"code": f"{when}_{basis}"[:40], "name": {"zh": "费", "en": "fee"}, "when": when,
                     "basis": basis, "value": value})
    document["fees"] = fees
    document["prepayment"] = {"allowed": draw(st.booleans()), "earliest_period": draw(st.integers(1, 3)),
                              "partial_allowed": draw(st.booleans())}
    return document


def independent_apr(product: Product, amount, term, method, rate, start, prepay_at):
    """The APR of one loan from its schedule rows, solved by numpy-financial (not by core.schedule.apr)."""
    if prepay_at is not None and method is Method.BULLET:
        schedule = product.schedule(amount, prepay_at, method, start, rate)
        rows = schedule.installments
        last_extra = product.prepayment_fee(amount, amount)
        days = (rows[-1].due_date - start).days
        periods_per_year = 365 / days
    else:
        schedule = product.schedule(amount, term, method, start, rate)
        rows = schedule.installments
        last_extra = Decimal(0)
        if method is Method.BULLET:
            periods_per_year = 365 / (rows[-1].due_date - start).days
        else:
            periods_per_year = 12
        if prepay_at is not None:
            rows = rows[:prepay_at]
            remaining = rows[-1].remaining_principal
            last_extra = remaining + product.prepayment_fee(amount, remaining)
    flows = [float(schedule.terms.upfront_fee - amount)] + [float(r.total) for r in rows]
    flows[-1] += float(last_extra)
    return npf.irr(flows) * periods_per_year


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=products(), data=st.data())
def test_no_loan_inside_a_proven_product_costs_more_than_the_cap(document, data):
    report = check_product(document, plugins=REGISTRY)
    if not report.ok:
        return
    product = Product(document)
    spec = product.amount
    cap = float(report.proof.cap)
    for _ in range(8):
        steps = int((spec.max - spec.min) / spec.step)
        amount = spec.min + spec.step * data.draw(st.integers(0, steps))
        term = data.draw(st.sampled_from(product.terms()))
        method = product.methods[0]
        rate = data.draw(st.decimals(min_value=product.rate.min, max_value=product.rate.max, places=4))
        start = date(2026, 1, 1) + timedelta(days=data.draw(st.integers(0, 364)))
        periods = term if method is Method.BULLET else product.periods(term)
        prepay_at = None
        earliest = document["prepayment"]["earliest_period"]
        if document["prepayment"]["allowed"] and earliest < periods and data.draw(st.booleans()):
            prepay_at = data.draw(st.integers(earliest, periods - 1))
        apr = independent_apr(product, amount, term, method, rate, start, prepay_at)
        assert apr <= cap + 1e-9, (amount, term, method, rate, start, prepay_at, apr, report.proof.as_dict())


def test_a_per_installment_fee_weighs_more_on_weekly_installments():
    """0.2% of the principal per installment is 2.4% a year monthly but 10.4% weekly: over the cap."""
    monthly = sample("consumer_installment.json")
    weekly = sample("consumer_installment.json")
    weekly["term"] = {"unit": "week", "values": [8, 12, 26], "default": 8}
    weekly["repayment"]["frequency"] = "weekly"
    assert check_product(monthly, plugins=REGISTRY).ok
    report = check_product(weekly, plugins=REGISTRY)
    assert [p.code for p in report.problems] == ["apr.over_cap"]
    assert report.proof.worst.apr > Decimal("0.30")
