"""Accrual, buckets and classification, against hand-worked figures."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidArgumentError
from core.loans.accrual import accrual_for, accrued_target
from core.loans.delinquency import (
    DEFAULT_CLASSIFICATION,
    LABELS_ZH,
    NON_PERFORMING,
    ClassificationPolicy,
    FiveTier,
    bucket,
    policy_on,
    tier_code,
)
from core.rounding import Rounding


def test_interest_of_100_over_3_days_posts_33_33_33_33_33_34():
    start, due = date(2026, 1, 1), date(2026, 1, 4)
    posted = D(0)
    days = []
    for k in (1, 2, 3):
        amount = accrual_for(D("100.00"), start, due, start + timedelta(days=k), posted)
        days.append(amount)
        posted += amount
    assert days == [D("33.33"), D("33.34"), D("33.33")]
    assert posted == D("100.00")


def test_rerunning_a_day_posts_nothing():
    start, due = date(2026, 1, 1), date(2026, 2, 1)
    already = accrued_target(D("408.33"), start, due, date(2026, 1, 10))
    assert accrual_for(D("408.33"), start, due, date(2026, 1, 10), already) == 0


def test_catching_up_ten_days_at_once_posts_the_same_as_day_by_day():
    start, due = date(2026, 1, 15), date(2026, 2, 15)
    assert accrued_target(D("4083.33"), start, due, date(2026, 1, 25)) == D("1317.20")  # 4083.33 × 10/31


@settings(max_examples=200, deadline=None)
@given(interest=st.integers(0, 10**9).map(lambda f: D(f) / 100), days=st.integers(1, 400),
       mode=st.sampled_from(list(Rounding)), skip=st.lists(st.integers(1, 30), max_size=40))
def test_daily_accruals_of_a_period_add_up_exactly_to_its_interest_and_never_go_negative(interest, days, mode, skip):
    start = date(2026, 1, 31)
    due = start + timedelta(days=days)
    posted, day = D(0), start
    for step in [*skip, 10**4]:
        day = min(due, day + timedelta(days=step))
        amount = accrual_for(interest, start, due, day, posted, mode)
        assert amount >= 0
        posted += amount
        if day == due:
            break
    assert posted == interest


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(InvalidArgumentError) as error:
        accrued_target(D(1), date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 1))
    assert error.value.field == "due_date"


@pytest.mark.parametrize(("dpd", "expected"), [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"),
                                               (90, "M3"), (91, "M4"), (120, "M4"), (121, "M5"), (180, "M6"),
                                               (181, "M7"), (1000, "M7")])
def test_buckets(dpd, expected):
    assert bucket(dpd) == expected


def test_a_negative_dpd_is_refused():
    with pytest.raises(InvalidArgumentError):
        bucket(-1)


@pytest.mark.parametrize(("dpd", "tier"), [(0, FiveTier.NORMAL), (1, FiveTier.SPECIAL_MENTION),
                                           (90, FiveTier.SPECIAL_MENTION), (91, FiveTier.SUBSTANDARD),
                                           (270, FiveTier.SUBSTANDARD), (271, FiveTier.DOUBTFUL),
                                           (360, FiveTier.DOUBTFUL), (361, FiveTier.LOSS)])
def test_five_tier_defaults_of_the_2023_rules(dpd, tier):
    assert policy_on(DEFAULT_CLASSIFICATION, date(2026, 5, 1)).classify(dpd) is tier


def test_five_tier_labels_and_codes():
    assert [(LABELS_ZH[t], tier_code(t)) for t in FiveTier] == [("正常", 1), ("关注", 2), ("次级", 3), ("可疑", 4),
                                                                ("损失", 5)]
    assert [t for t in FiveTier if t in NON_PERFORMING] == [FiveTier.SUBSTANDARD, FiveTier.DOUBTFUL, FiveTier.LOSS]


def test_a_later_dated_policy_with_a_7_day_technical_overdue_applies_from_its_date():
    later = ClassificationPolicy.from_mapping({"effective_from": "2027-01-01", "source": "board 2026-12",
                                               "technical_days": 7, "substandard_after": 60})
    policies = (*DEFAULT_CLASSIFICATION, later)
    assert policy_on(policies, date(2026, 12, 31)).classify(5) is FiveTier.SPECIAL_MENTION
    assert policy_on(policies, date(2027, 1, 1)).classify(5) is FiveTier.NORMAL
    assert policy_on(policies, date(2027, 1, 1)).classify(61) is FiveTier.SUBSTANDARD


def test_no_policy_in_force_and_bad_thresholds_are_refused():
    with pytest.raises(InvalidArgumentError):
        policy_on(DEFAULT_CLASSIFICATION, date(2020, 1, 1))
    with pytest.raises(InvalidArgumentError) as error:
        ClassificationPolicy(date(2026, 1, 1), "x", substandard_after=300, doubtful_after=270)
    assert error.value.field == "classification"
    with pytest.raises(InvalidArgumentError):
        ClassificationPolicy.from_mapping({"source": "no date"})
