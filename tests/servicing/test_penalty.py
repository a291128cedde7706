"""Penalty interest worked by hand.

10,000.00 overdue principal at a 12% contract rate × 1.5 = 18% a year; ACT/360: 10,000 × 0.18 / 360 = 5.00 a
day. With compounding, 200.00 overdue interest adds 200 × 0.18 / 360 = 0.10 a day.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from core.errors import InvalidArgumentError
from core.loans.daily import InstallmentRow
from core.loans.penalty import PenaltyPolicy, charge_penalties, daily_penalty


def charge(policy, dpd, principal=D(10000), interest=D(200)):
    return daily_penalty(policy, annual_rate=D("0.12"), basis=360, overdue_principal=principal,
                         overdue_interest=interest, days_past_due=dpd)


def test_10000_overdue_at_12pct_times_1_5__is_5_a_day():
    assert charge(PenaltyPolicy(), 1) == D(5)


def test_compound_interest_adds_10_fen_a_day_on_200_of_overdue_interest():
    assert charge(PenaltyPolicy(compound=True), 4) == D("5.10")


def test_a_fixed_daily_rate_of_0_05pct_replaces_the_multiplier():
    assert charge(PenaltyPolicy(daily_rate=D("0.0005")), 2) == D("5.0000")


def test_any_daily_rate_the_product_schema_allows_is_accepted__2pct_of_10000_is_200_a_day():
    """The schema's ``penalty.daily_rate`` is a fraction from 0 to 1; a product published with 0.02 books."""
    assert charge(PenaltyPolicy(daily_rate=D("0.02")), 1) == D("200.00")


def test_three_grace_days__charge_nothing_then_four_days_at_once_then_one_a_day():
    policy = PenaltyPolicy(grace_days=3)
    assert [charge(policy, d) for d in (1, 2, 3, 4, 5)] == [0, 0, 0, D(20), D(5)]


def test_grace_not_retroactive__runs_only_from_the_day_after_the_grace():
    policy = PenaltyPolicy(grace_days=3, grace_retroactive=False)
    assert [charge(policy, d) for d in (3, 4, 5)] == [0, D(5), D(5)]


def test_nothing_on_a_current_loan():
    assert charge(PenaltyPolicy(), 0) == 0


@pytest.mark.parametrize(("data", "field"), [({"multiplier": "3"}, "penalty.multiplier"),
                                             ({"daily_rate": "1.5"}, "penalty.daily_rate"),
                                             ({"grace_days": 99}, "penalty.grace_days"),
                                             ({"grace_days": "x"}, "penalty.grace_days"),
                                             ({"multiplier": 1.5}, "penalty.multiplier")])
def test_out_of_range_penalty_settings_are_refused_naming_the_field(data, field):
    with pytest.raises(InvalidArgumentError) as error:
        PenaltyPolicy(**data)
    assert error.value.field == field


def installment(period, due, principal, interest):
    return InstallmentRow(period, period, due - timedelta(days=30), due, D(principal), D(interest), D(0), D(0),
                          D(interest), D(0), D(0), D(0), D(0), D(0), "overdue")


def test_two_installments_each_with_its_own_grace_compound_and_carry():
    """Grace 3 days (retroactive) with 复利, 12% × 1.5 / 360 = 0.05% a day on principal + interest.

    Installment 1 (due 03-15) owes 1,000.00 + 100.00: 1,100 × 0.0005 = 0.55 a day. Installment 2 (due
    03-18) owes 2,000.00 + 50.00: 2,050 × 0.0005 = 1.025 a day.

    - 03-18: installment 1 is 3 days late, within its grace: 0; installment 2 falls due: 0.
    - 03-19: installment 1 exceeds its grace, its 4 days at once: 4 × 0.55 = 2.20; installment 2, 1 day: 0.
    - 03-22: installment 1: 0.55; installment 2 exceeds its grace: 4 × 1.025 = 4.10.
    - 03-23: installment 1: 0.55; installment 2: 1.025 → 1.02 posted, 0.005 carried (as 0.005 × 360 = 1.8,
      the remainder over the day divisor: exact, never a rounded 28-digit quotient).
    - 03-24: installment 1: 0.55; installment 2: 0.005 + 1.025 = 1.03 posted, nothing carried.
    """
    policy = PenaltyPolicy(grace_days=3, compound=True)
    first, second = installment(1, date(2026, 3, 15), "1000.00", "100.00"), installment(2, date(2026, 3, 18),
                                                                                         "2000.00", "50.00")
    second.status = "due"

    def day(month_day):
        on = date(2026, 3, month_day)
        if on > second.due_date:
            second.status = "overdue"
        charges = charge_penalties(policy, [second, first], on, annual_rate=D("0.12"), basis=360)
        return [(c.period, c.days_past_due, c.posted, c.carry) for c in charges]

    assert day(18) == [(1, 3, 0, 0)]
    assert day(19) == [(1, 4, D("2.20"), 0), (2, 1, 0, 0)]
    assert day(22) == [(1, 7, D("0.55"), 0), (2, 4, D("4.10"), 0)]
    assert day(23) == [(1, 8, D("0.55"), 0), (2, 5, D("1.02"), D("0.005") * 360)]
    assert day(24) == [(1, 9, D("0.55"), 0), (2, 6, D("1.03"), 0)]
    assert (first.penalty, second.penalty) == (D("3.85"), D("6.15"))


def test_a_settled_or_current_installment_bears_no_penalty():
    paid = installment(1, date(2026, 3, 15), "1000.00", "100.00")
    paid.paid_principal, paid.paid_interest = D("1000.00"), D("100.00")
    assert charge_penalties(PenaltyPolicy(), [paid], date(2026, 3, 20), annual_rate=D("0.12"), basis=360) == []
