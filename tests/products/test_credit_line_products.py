"""Credit-line products: the kind and its section validated with pointers, and the APR proof over every drawdown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidArgumentError
from core.products import Product, check_product, prove_apr_cap
from core.products.credit_line import LineTerms, daily_product, daily_term
from tests.products.helpers import REGISTRY, sample

LINE = "revolving_credit_line.json"


def problems_of(document):
    return {(p.pointer, p.code) for p in check_product(document, plugins=REGISTRY, prove=False).problems}


def test_the_sample_line_is_proven_over_its_daily_drawdowns_too():
    report = check_product(sample(LINE), plugins=REGISTRY)
    assert report.ok
    instalments_only = prove_apr_cap(Product(sample(LINE)))
    # rates priced: the highest (18%) and the bands' 7.2%, 10.8%, 14.4%, 18%: four distinct ones.
    # 3 terms x 3 methods x 2 amounts x 4 rates x (held, prepaid at period 1)
    assert instalments_only.cases == 3 * 3 * 2 * 4 * 2
    # daily: day 1 held only, days 2..90 held and prepaid after one day; x 2 amounts x 4 rates
    assert report.proof.cases == instalments_only.cases + (1 + 89 * 2) * 2 * 4
    worst = report.proof.worst
    # one day of 18% (ACT/360) on the smallest drawdown of 500.00: 0.25 of interest, an IRR of 0.0005 a day,
    # annualised over 365 daily periods
    assert (worst.amount, worst.term, worst.method.value) == (Decimal("500.00"), 1, "bullet")
    interest = (Decimal("500.00") * Decimal("0.18") / 360).quantize(Decimal("0.01"))
    assert interest == Decimal("0.25")
    assert worst.apr == (interest / Decimal("500.00") * 365).quantize(Decimal("0.000001"))


def test_a_fee_on_every_drawdown_breaks_the_cap_on_the_shortest_daily_drawdown():
    document = sample(LINE)
    document["fees"].append({"code": "drawdown", "name": {"zh": "支用手续费", "en": "Drawdown fee"},
                             "when": "upfront", "basis": "fixed", "value": "5.00"})
    report = check_product(document, plugins=REGISTRY)
    assert [(p.pointer, p.code) for p in report.problems] == [("/compliance/apr_cap/rate", "apr.over_cap")]
    worst = report.proof.worst
    # the borrower nets 500.00 - 5.00 at once and repays 500.25 a day later: 1.06% a day, far above 24% a year
    assert (worst.amount, worst.term) == (Decimal("500.00"), 1)
    daily_irr = Decimal("500.25") / (Decimal("500.00") - Decimal("5.00")) - 1
    assert worst.apr == (daily_irr * 365).quantize(Decimal("0.000001"))


def test_without_the_daily_drawdown_the_same_fee_is_proven_on_instalments_only():
    document = sample(LINE)
    del document["credit_line"]["daily_interest"]
    document["fees"].append({"code": "service", "name": {"zh": "服务费", "en": "Service fee"},
                             "when": "per_installment", "basis": "percent_of_principal", "value": "0.0010"})
    report = check_product(document, plugins=REGISTRY)
    assert report.ok and report.proof.cases == 144
    assert report.proof.worst.method.value != "bullet"


def test_the_kind_and_its_section_go_together():
    document = sample(LINE)
    del document["credit_line"]
    assert ("/credit_line", "credit_line.missing") in problems_of(document)
    loan = sample("consumer_installment.json")
    loan["credit_line"] = sample(LINE)["credit_line"]
    assert ("/credit_line", "credit_line.not_a_line") in problems_of(loan)
    document = sample(LINE)
    document["kind"] = "overdraft"
    assert ("/kind", "schema.enum") in problems_of(document)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["credit_line"]["limit"].update(min="200000.00"), ("/credit_line/limit/max", "range.min_above_max")),
    (lambda d: d["credit_line"]["limit"].update(default="20500.00"),
     ("/credit_line/limit/default", "range.default_off_step")),
    (lambda d: d["credit_line"]["limit"].update(min="100.00", max="400.00", step="100.00", default="100.00"),
     ("/credit_line/limit/max", "credit_line.limit_below_drawdown")),
    (lambda d: d["amount"].update(max="150000.00"), ("/amount/max", "credit_line.drawdown_above_limit")),
    (lambda d: d["credit_limits"].update(max_outstanding_per_customer="500.00"),
     ("/credit_limits/max_outstanding_per_customer", "credit_line.customer_limit_below_line")),
    (lambda d: d["credit_line"]["daily_interest"].update(repayment_day_rule="fixed_day"),
     ("/credit_line/daily_interest/repayment_day", "credit_line.repayment_day_missing")),
    (lambda d: d["credit_line"]["daily_interest"].update(repayment_day_rule="fixed_day", repayment_day=10,
                                                         max_days=30),
     ("/credit_line/daily_interest/max_days", "credit_line.max_days_below_cycle")),
    (lambda d: d["credit_line"]["daily_interest"].update(repayment_day=10),
     ("/credit_line/daily_interest/repayment_day", "credit_line.unused_field")),
    (lambda d: d["credit_line"].update(validity_months=0), ("/credit_line/validity_months", "schema.minimum")),
    (lambda d: d["credit_line"]["renewal"].update(mode="automatic"), ("/credit_line/renewal/mode", "schema.enum")),
])
def test_each_fault_of_a_line_is_reported_at_its_pointer(change, expected):
    document = sample(LINE)
    change(document)
    assert expected in problems_of(document)


def test_line_terms_read_the_section_and_a_loan_product_is_refused():
    terms = LineTerms.of(Product(sample(LINE)))
    assert (terms.limit.min, terms.limit.max, terms.validity_months, terms.revolving) == (
        Decimal("1000.00"), Decimal("100000.00"), 12, True)
    # twelve months from 2026-02-15: the last day to draw is 2027-02-14
    assert terms.expires_on(date(2026, 2, 15)) == date(2027, 2, 14)
    assert terms.expires_on(date(2026, 1, 31)) == date(2027, 1, 30)
    with pytest.raises(InvalidArgumentError, match="kind"):
        LineTerms.of(Product(sample("consumer_installment.json")))


def test_the_repayment_date_rule_sets_a_daily_drawdowns_days():
    document = sample(LINE)
    chosen = LineTerms.of(Product(document))
    assert daily_term(chosen, date(2026, 3, 1), 17) == 17
    for bad in (0, 91, None, True):
        with pytest.raises(InvalidArgumentError, match="term"):
            daily_term(chosen, date(2026, 3, 1), bad)
    document["credit_line"]["daily_interest"] = {"max_days": 40, "repayment_day_rule": "fixed_day",
                                                 "repayment_day": 10, "min_days": 5}
    fixed = LineTerms.of(Product(document))
    # drawn on 1 March: 10 March is 9 days away (>= 5); drawn on 7 March: 3 days is too few, so 10 April
    assert daily_term(fixed, date(2026, 3, 1), None) == 9
    assert daily_term(fixed, date(2026, 3, 7), None) == (date(2026, 4, 10) - date(2026, 3, 7)).days == 34
    assert daily_term(fixed, date(2026, 1, 31), 99) == 10


def test_a_daily_drawdown_is_a_bullet_in_days_of_the_same_rate_and_day_count():
    product = daily_product(Product(sample(LINE)))
    assert (product.term_unit, product.terms()[0], product.terms()[-1]) == ("day", 1, 90)
    schedule = product.schedule(Decimal("10000.00"), 30, "bullet", date(2026, 3, 1), Decimal("0.1080"))
    # 10,000 at 10.8% for 30 days on ACT/360: 90.00 of interest, paid with the principal on day 30
    assert [(r.due_date, r.principal, r.interest) for r in schedule.installments] == [
        (date(2026, 3, 31), Decimal("10000.00"), Decimal("90.00"))]
