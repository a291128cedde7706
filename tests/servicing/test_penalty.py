"""Penalty interest worked by hand.

10,000.00 overdue principal at a 12% contract rate × 1.5 = 18% a year; ACT/360: 10,000 × 0.18 / 360 = 5.00 a
day. With compounding, 200.00 overdue interest adds 200 × 0.18 / 360 = 0.10 a day.
"""

from decimal import Decimal as D

import pytest

from core.errors import InvalidArgumentError
from core.servicing.penalty import PenaltyPolicy, daily_penalty


def charge(policy, dpd, principal=D(10000), interest=D(200)):
    return daily_penalty(policy, annual_rate=D("0.12"), basis=360, overdue_principal=principal,
                         overdue_interest=interest, days_past_due=dpd)


def test_10000_overdue_at_12pct_times_1_5__is_5_a_day():
    assert charge(PenaltyPolicy(), 1) == D(5)


def test_compound_interest_adds_10_fen_a_day_on_200_of_overdue_interest():
    assert charge(PenaltyPolicy(compound=True), 4) == D("5.10")


def test_a_fixed_daily_rate_of_0_05pct_replaces_the_multiplier():
    assert charge(PenaltyPolicy(daily_rate=D("0.0005")), 2) == D("5.0000")


def test_three_grace_days__charge_nothing_then_four_days_at_once_then_one_a_day():
    policy = PenaltyPolicy(grace_days=3)
    assert [charge(policy, d) for d in (1, 2, 3, 4, 5)] == [0, 0, 0, D(20), D(5)]


def test_grace_not_retroactive__runs_only_from_the_day_after_the_grace():
    policy = PenaltyPolicy(grace_days=3, grace_retroactive=False)
    assert [charge(policy, d) for d in (3, 4, 5)] == [0, D(5), D(5)]


def test_nothing_on_a_current_loan():
    assert charge(PenaltyPolicy(), 0) == 0


def test_policy_from_product_json_round_trips():
    policy = PenaltyPolicy.from_mapping({"multiplier": "1.3", "compound": True, "grace_days": 2})
    assert PenaltyPolicy.from_mapping(policy.as_dict()) == policy
    assert PenaltyPolicy.from_mapping(None) == PenaltyPolicy()


@pytest.mark.parametrize(("data", "field"), [({"multiplier": "3"}, "penalty.multiplier"),
                                             ({"daily_rate": "0.5"}, "penalty.daily_rate"),
                                             ({"grace_days": 99}, "penalty.grace_days"),
                                             ({"grace_days": "x"}, "penalty.grace_days"),
                                             ({"multiplier": 1.5}, "penalty.multiplier")])
def test_out_of_range_penalty_settings_are_refused_naming_the_field(data, field):
    with pytest.raises(InvalidArgumentError) as error:
        PenaltyPolicy.from_mapping(data)
    assert error.value.field == field
