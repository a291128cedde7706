"""Failing products: each yields exactly the problems expected, at the expected pointers, with codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.products import check_product, validate_product
from tests.products.helpers import REGISTRY, sample


def problems_of(document, **kwargs):
    kwargs.setdefault("plugins", REGISTRY)
    return [(p.pointer, p.code) for p in validate_product(document, **kwargs)]


def test_apr_over_the_cap_names_the_worst_combination():
    """消费分期贷 at up to 22% a year plus a 0.2% monthly fee on the principal costs more than 24%.

    The worst case is the smallest loan (1,000) over 24 months at 22%, prepaid at period 3 with 0.5% of
    the outstanding principal: about 26.4% a year.
    """
    document = sample("consumer_installment.json")
    document["rate"]["annual"]["max"] = "0.2200"
    report = check_product(document, plugins=REGISTRY)
    assert [(p.pointer, p.code) for p in report.problems] == [("/compliance/apr_cap/rate", "apr.over_cap")]
    worst = report.proof.worst
    assert (worst.amount, worst.term, worst.method.value, worst.prepaid_at_period) == (1000, 24, "equal_installment", 3)
    assert worst.apr > report.proof.cap
    assert "1000.00" in report.problems[0].message_en and "超过上限" in report.problems[0].message_zh


def test_a_lower_cap_on_the_effective_basis_rejects_a_sound_product():
    document = sample("sme_business.json")
    document["compliance"]["apr_cap"] = {"rate": "0.20", "basis": "effective_irr", "effective_from": "2026-01-01",
                                         "source": "board decision 2026-01"}
    assert problems_of(document) == [("/compliance/apr_cap/rate", "apr.over_cap")]


def test_default_amount_out_of_range():
    document = sample("consumer_installment.json")
    document["amount"]["default"] = "90000.00"
    assert problems_of(document) == [("/amount/default", "range.default_out_of_range")]


def test_default_term_off_its_step_and_default_rate_out_of_range():
    document = sample("home_improvement.json")
    document["term"]["default"] = 30
    document["rate"]["annual"]["default"] = "0.2000"
    assert problems_of(document) == [("/rate/annual/default", "range.default_out_of_range"),
                                     ("/term/default", "range.default_off_step")]


def test_unknown_plugin_and_plugin_missing_a_hook():
    document = sample("consumer_installment.json")
    document["plugins"]["scoring"] = "acme_score"
    registry = {**REGISTRY, "sandbox_bank": {"payment_disburse"}}
    problems = validate_product(document, plugins=registry)
    assert [(p.pointer, p.code) for p in problems] == [("/plugins/payment_channel", "plugin.missing_hook"),
                                                       ("/plugins/scoring", "plugin.unknown")]
    assert "payment_debit" in problems[0].message_en


def test_bad_conditions_point_at_the_condition_with_the_character_offset():
    document = sample("sme_business.json")
    document["approval"][2]["when"] = "amount > 100000 and"
    document["eligibility"]["rules"][0]["condition"] = "__import__('os').system('ls')"
    document["approval"][0]["condition"] = "score < 'low'"
    problems = validate_product(document, plugins=REGISTRY)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/approval/0/condition", "expression.type"),
        ("/approval/2/when", "expression.syntax"),
        ("/eligibility/rules/0/condition", "expression.unknown_variable"),
    ]
    assert problems[1].message_en == "bad condition at character 19: expected a value, found the end"
    assert "第 19 个字符" in problems[1].message_zh


def test_schema_problems_are_all_reported_at_the_field():
    document = sample("consumer_installment.json")
    del document["amount"]["max"]
    document["currency"] = "USD"
    document["repayment"]["methods"] = ["balloon"]
    document["fees"][0]["colour"] = "red"
    document["term"]["values"] = [3, 3]
    problems = validate_product(document, plugins=REGISTRY)
    assert [(p.pointer, p.code) for p in problems] == [
        ("/amount/max", "schema.required"),
        ("/currency", "schema.enum"),
        ("/fees/0/colour", "schema.additionalProperties"),
        ("/repayment/methods/0", "schema.enum"),
        ("/term/values", "schema.uniqueItems"),
    ]
    assert all(p.message_zh and p.message_en for p in problems)
    assert problems[0].message_zh == "缺少必填项"


def test_a_document_that_is_not_an_object():
    assert problems_of([]) == [("", "schema.type")]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["term"].update({"unit": "day"}),
     [("/repayment/frequency", "term.unit_frequency")]),
    (lambda d: d["repayment"].update({"methods": ["interest_only"]}) or d["term"].update({"values": [1, 6, 12]}),
     [("/term/values", "term.too_short_for_method")]),
    (lambda d: d["repayment"].update({"grace_periods": 3}),
     [("/repayment/grace_periods", "term.grace_too_long")]),
    (lambda d: d["repayment"].update({"frequency": "quarterly"}) or d["term"].update({"values": [3, 4, 12]}),
     [("/term/values", "term.not_whole_periods")]),
    (lambda d: d["repayment"].update({"due_day_rule": "fixed_day"}),
     [("/repayment/repayment_day", "repayment.repayment_day_missing")]),
    (lambda d: d["repayment"].update({"default_method": "bullet"}),
     [("/repayment/default_method", "repayment.default_method_not_allowed")]),
    (lambda d: d["rate"]["risk_bands"][1].update({"score_max": 760, "annual_rate": "0.2000"}),
     [("/rate/risk_bands/1", "rate.band_overlap"), ("/rate/risk_bands/1/annual_rate", "rate.band_out_of_range")]),
    (lambda d: d["fees"][1].update({"code": "service", "value": "1.5"}),
     [("/fees/1/code", "fee.duplicate_code"), ("/fees/1/value", "fee.percent_over_one")]),
    (lambda d: d["fees"][1].update({"basis": "fixed", "value": "50.00"}),
     [("/fees/1/basis", "fee.prepayment_fee_per_partial")]),
    (lambda d: d["prepayment"].update({"allowed": False}),
     [("/fees/1/when", "fee.prepayment_not_allowed")]),
    (lambda d: d["penalty"].update({"mode": "daily_rate"}),
     [("/penalty/daily_rate", "penalty.daily_rate_missing"), ("/penalty/multiplier", "penalty.unused_field")]),
    (lambda d: d["penalty"].update({"multiplier": "3"}),
     [("/penalty/multiplier", "penalty.multiplier_out_of_range")]),
    (lambda d: d["prepayment"].update({"earliest_period": 24}),
     [("/prepayment/earliest_period", "prepayment.never_possible")]),
    (lambda d: d.update({"collateral": {"required": True, "min_coverage": "0.8"}}),
     [("/collateral/min_coverage", "collateral.coverage_below_one"),
      ("/collateral/types", "collateral.types_missing")]),
    (lambda d: d["credit_limits"].update({"max_outstanding_per_customer": "500.00"}),
     [("/credit_limits/max_outstanding_per_customer", "limits.below_min_amount")]),
    (lambda d: d["eligibility"].update({"age": {"min": 60, "max": 30}, "regions": {"allow": ["65"], "deny": ["65"]}}),
     [("/eligibility/age/max", "range.min_above_max"), ("/eligibility/regions/deny/0", "eligibility.region_conflict")]),
    (lambda d: d["approval"][2].update({"role": "intern", "outcome": "approve"}),
     [("/approval/2/outcome", "approval.field_not_for_kind"), ("/approval/2/role", "approval.unknown_role")]),
    (lambda d: d["approval"][0].pop("outcome"),
     [("/approval/0/outcome", "approval.field_missing")]),
    (lambda d: d["gl_accounts"].pop("fee_income"),
     [("/gl_accounts/fee_income", "gl.unmapped")]),
    (lambda d: d["notifications"][1].update({"event": "approved", "text": {"zh": "{nmae}", "en": "due {due_date"}}),
     [("/notifications/1/event", "notification.duplicate_event"),
      ("/notifications/1/text/en", "notification.bad_template"),
      ("/notifications/1/text/zh", "notification.unknown_variable")]),
    (lambda d: d["credit_limits"].update({"max_outstanding_per_customer": Decimal("200000.001")}),
     [("/credit_limits/max_outstanding_per_customer", "money.fen")]),
    (lambda d: d["term"].update({"min": 3, "max": 24}),
     [("/term", "term.values_or_range")]),
], ids=lambda value: value[0][1] if isinstance(value, list) else None)
def test_semantic_problems(edit, expected):
    document = sample("consumer_installment.json")
    edit(document)
    assert problems_of(document) == expected


def test_a_fixed_prepayment_fee_is_fine_when_only_full_prepayment_is_allowed():
    document = sample("consumer_installment.json")
    document["fees"][1].update({"basis": "fixed", "value": "2.00"})
    document["prepayment"]["partial_allowed"] = False
    assert problems_of(document) == []


def test_fixed_repayment_day_must_fit_the_frequency():
    weekly = sample("home_improvement.json")
    weekly["term"] = {"unit": "week", "values": [8, 12], "default": 8}
    weekly["repayment"]["frequency"] = "weekly"
    assert problems_of(weekly) == [("/repayment/repayment_day", "repayment.repayment_day_out_of_range")]
    daily = sample("short_term_bridge.json")
    daily["repayment"].update({"due_day_rule": "fixed_day", "repayment_day": 5})
    assert problems_of(daily) == [("/repayment/due_day_rule", "repayment.fixed_day_frequency")]


def test_prepayment_of_a_bullet_loan_must_be_possible_before_its_longest_term_ends():
    document = sample("short_term_bridge.json")
    document["prepayment"]["earliest_period"] = 90
    assert problems_of(document) == [("/prepayment/earliest_period", "prepayment.never_possible")]
    document["prepayment"]["earliest_period"] = 89
    assert problems_of(document) == []


def test_gl_accounts_checked_against_a_chart_when_one_is_given():
    document = sample("short_term_bridge.json")
    chart = set(document["gl_accounts"].values()) - {"670101"}
    assert problems_of(document, chart=chart) == [("/gl_accounts/write_off_loss", "gl.unknown_account")]


def test_roles_are_configurable():
    assert problems_of(sample("sme_business.json"), roles={"risk_officer"}) == [
        ("/approval/2/role", "approval.unknown_role")]
