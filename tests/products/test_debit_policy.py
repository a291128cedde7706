"""The debit policy is product data: the schema says each setting, the checks refuse what it cannot say
(each problem at its JSON pointer), and the policy record answers when each attempt of an installment falls."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from core.debits.policy import DISABLED, Attempt, DebitPolicy
from core.products.validate import check_product
from tests.api.conftest import sample


def _problems(document):
    return {(p.pointer, p.code) for p in check_product(document, prove=False).problems}


@pytest.mark.parametrize("name", ["consumer_installment", "home_improvement", "short_term_bridge", "sme_business"])
def test_every_sample_product_debits_with_a_valid_policy(name):
    document = sample(name)
    assert not _problems(document)
    policy = DebitPolicy.of(document)
    assert policy.enabled and policy.attempts and len(policy.attempts) <= policy.max_attempts
    assert "{account}" in document["debit"]["consent_text"]["zh"]


def test_attempts_out_of_order_and_unreachable_caps_are_named_by_pointer():
    document = copy.deepcopy(sample("consumer_installment"))
    document["debit"]["attempts"] = [{"offset_days": 0, "hour": 15}, {"offset_days": 0, "hour": 9}]
    document["debit"]["max_attempts"] = 1
    document["debit"]["consent_text"]["en"] = "We debit your card."
    assert _problems(document) == {("/debit/attempts/1", "debit.attempts_out_of_order"),
                                   ("/debit/max_attempts", "debit.plan_over_cap"),
                                   ("/debit/consent_text/en", "debit.consent_without_account")}
    document = copy.deepcopy(sample("consumer_installment"))
    document["debit"]["overdue_retry_every_days"] = 0
    assert _problems(document) == {("/debit/max_attempts", "debit.cap_unreachable")}


def test_schema_refuses_unknown_settings_and_hours_out_of_the_day():
    document = copy.deepcopy(sample("consumer_installment"))
    document["debit"]["attempts"][0]["hour"] = 24
    document["debit"]["retry_forever"] = True
    assert _problems(document) == {("/debit/attempts/0/hour", "schema.maximum"),
                                   ("/debit/retry_forever", "schema.additionalProperties")}


def test_attempt_times_follow_the_plan_then_the_overdue_interval_up_to_the_cap():
    policy = DebitPolicy.of(sample("consumer_installment"))  # D+0 9h, D+0 15h, D+1, D+3, D+7; every 7; max 12
    due = date(2026, 4, 2)
    times = [policy.attempt_time(n, due) for n in range(1, 14)]
    assert times[:5] == [(date(2026, 4, 2), 9), (date(2026, 4, 2), 15), (date(2026, 4, 3), 9),
                         (date(2026, 4, 5), 9), (date(2026, 4, 9), 9)]
    assert times[5:12] == [(date(2026, 4, 9 + 7 * k), 9) if 9 + 7 * k <= 30 else (date(2026, 5, 9 + 7 * k - 30), 9)
                           for k in range(1, 8)]
    assert times[12] is None  # past max_attempts
    assert DebitPolicy.of({}) is DISABLED and not DISABLED.enabled
    bridge = DebitPolicy.of(sample("home_improvement"))
    assert bridge.attempts[0] == Attempt(-1, 10)  # the day before the due date
