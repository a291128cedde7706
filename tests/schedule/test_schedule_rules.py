"""Month-end clamping, grace periods, fees, rounding modes and the residue, worked by hand.

Unless a test says otherwise: 3,000.00 CNY at 12% a year (1% a month), monthly, ACT/360, half-up.
Level installments by hand: A(P, n) = P·i·(1+i)^n / ((1+i)^n − 1); A(3000, 2) = 3000 × 1.0201 / 2.01 =
1522.5373 → 1522.54; A(3000, 3) = 30 × 1.030301 / 0.030301 = 1020.0663 → 1020.07.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.schedule import LoanTerms, build_schedule

D = Decimal


def terms(**overrides):
    values = {"principal": D("3000.00"), "annual_rate": D("0.12"), "periods": 3, "start_date": date(2026, 1, 15)}
    return LoanTerms(**{**values, **overrides})


def test_month_end__disbursed_31_january_falls_due_28_february_31_march_30_april(rows):
    """The anchor stays the 31st: 02-28, 03-31, 04-30 (not 03-28). A(3000, 3) = 1020.07:
    990.07 + 30.00; 2009.93 × 1% = 20.0993 → 20.10, 999.97; 1009.96 × 1% = 10.0996 → 10.10, last
    1009.96 + 10.10 = 1020.06 (the residue of −0.01)."""
    assert rows(build_schedule(terms(start_date=date(2026, 1, 31)))) == [
        ("2026-02-28", "990.07", "30.00", "1020.07", "2009.93"),
        ("2026-03-31", "999.97", "20.10", "1020.07", "1009.96"),
        ("2026-04-30", "1009.96", "10.10", "1020.06", "0.00"),
    ]


def test_month_end__leap_year_february_has_29_days():
    schedule = build_schedule(terms(start_date=date(2028, 1, 31)))
    assert [row.due_date for row in schedule.installments] == [date(2028, 2, 29), date(2028, 3, 31),
                                                                date(2028, 4, 30)]


def test_fixed_day_31__first_period_16_days_then_clamped_month_ends(rows):
    """Repayment day 31 from 01-15: first due 01-31, 16 days: 3000 × 12% × 16/360 = 16.00; principal
    stays A − 30.00 = 990.07; then 02-28 and 03-31 as regular months."""
    schedule = build_schedule(terms(due_day_rule="fixed_day", repayment_day=31))
    assert rows(schedule) == [
        ("2026-01-31", "990.07", "16.00", "1006.07", "2009.93"),
        ("2026-02-28", "999.97", "20.10", "1020.07", "1009.96"),
        ("2026-03-31", "1009.96", "10.10", "1020.06", "0.00"),
    ]


def test_broken_first_period_follows_the_day_count__act_365f():
    """Repayment day 20 from 01-15 under ACT/365F: 3000 × 12% × 5/365 = 4.9315 → 4.93."""
    schedule = build_schedule(terms(due_day_rule="fixed_day", repayment_day=20, day_count="ACT/365F"))
    assert schedule.installments[0].interest == D("4.93")


def test_grace_interest_only__one_month_of_interest_then_two_level_installments(rows):
    """Grace month: interest 30.00 only. Then A(3000, 2) = 1522.54: 1492.54 + 30.00; 1507.46 + 15.07."""
    assert rows(build_schedule(terms(grace_periods=1))) == [
        ("2026-02-15", "0.00", "30.00", "30.00", "3000.00"),
        ("2026-03-15", "1492.54", "30.00", "1522.54", "1507.46"),
        ("2026-04-15", "1507.46", "15.07", "1522.53", "0.00"),
    ]


def test_grace_capitalised__nothing_paid_interest_added_to_principal(rows):
    """Grace month: nothing due, 30.00 of interest capitalised → 3030.00. A(3030, 2) = 3030 × 1.0201 / 2.01
    = 1537.7627 → 1537.76: 1507.46 + 30.30; 1522.54 × 1% = 15.2254 → 15.23, last 1522.54 + 15.23 = 1537.77."""
    assert rows(build_schedule(terms(grace_periods=1, grace_type="capitalised"))) == [
        ("2026-02-15", "0.00", "0.00", "0.00", "3030.00"),
        ("2026-03-15", "1507.46", "30.30", "1537.76", "1522.54"),
        ("2026-04-15", "1522.54", "15.23", "1537.77", "0.00"),
    ]


def test_fee_per_period__added_to_every_installment_that_has_a_payment():
    """A 5.00 monthly fee: 1522.54 + 5.00 = 1527.54 and 1522.53 + 5.00 = 1527.53; a capitalised grace
    month pays nothing, so no fee; an interest-only grace month pays 30.00 + 5.00."""
    fee = D("5.00")
    plain = build_schedule(terms(periods=2, fee_per_period=fee))
    assert [(row.fee, row.total) for row in plain.installments] == [(fee, D("1527.54")), (fee, D("1527.53"))]
    assert plain.total_fees == D("10.00")
    capitalised = build_schedule(terms(grace_periods=1, grace_type="capitalised", fee_per_period=fee))
    assert [row.fee for row in capitalised.installments] == [D("0.00"), fee, fee]
    interest_only = build_schedule(terms(grace_periods=1, fee_per_period=fee))
    assert interest_only.installments[0].total == D("35.00")


def test_upfront_fee__paid_at_disbursement_never_deducted_from_the_principal():
    schedule = build_schedule(terms(periods=2, upfront_fee=D("30.00")))
    assert schedule.total_principal == D("3000.00")
    assert schedule.installments[0].total == D("1522.54")
    assert schedule.total_fees == D("30.00")
    assert schedule.total_payable == D("1522.54") + D("1522.53") + D("30.00")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # A = 1000.50 × 1.0201 / 2.01 = 507.7662; first interest 1000.50 × 1% = 10.005 (a tie)
        ("half_up", [("497.76", "10.01", "507.77", "502.74"), ("502.74", "5.03", "507.77", "0.00")]),
        ("half_even", [("497.77", "10.00", "507.77", "502.73"), ("502.73", "5.03", "507.76", "0.00")]),
        ("down", [("497.76", "10.00", "507.76", "502.74"), ("502.74", "5.02", "507.76", "0.00")]),
        ("up", [("497.76", "10.01", "507.77", "502.74"), ("502.74", "5.03", "507.77", "0.00")]),
    ],
)
def test_rounding_modes__1000_50_at_12pct_two_months_residue_in_the_last(rows, mode, expected):
    """1,000.50 over 2 months at 1%: A = 507.7662 → 507.77 (half-up, half-even, up) or 507.76 (down).
    Interest 10.005 → 10.01 half-up and up, 10.00 half-even (to the even fen) and down; principal = A −
    interest; the second interest is 1% of what is left (5.0274 → 5.03, 5.0273 → 5.03, down 5.02) and the
    last installment takes the whole balance, so the residue (尾差) shows only there."""
    schedule = build_schedule(terms(principal=D("1000.50"), periods=2, rounding=mode))
    assert [row[1:] for row in rows(schedule)] == expected
    assert schedule.total_principal == D("1000.50")


@pytest.mark.parametrize("first_period", ["actual_days", "extra_days"])
def test_disbursed_on_the_repayment_day__the_first_period_is_a_whole_month(rows, first_period):
    """Disbursed 2026-01-20 with repayment day 20: no extra days, first due 02-20, interest 30.00 as in
    any whole month, A(3000, 2) = 1522.54."""
    schedule = build_schedule(terms(periods=2, start_date=date(2026, 1, 20), due_day_rule="fixed_day",
                                    repayment_day=20, first_period=first_period))
    assert rows(schedule) == [("2026-02-20", "1492.54", "30.00", "1522.54", "1507.46"),
                              ("2026-03-20", "1507.46", "15.07", "1522.53", "0.00")]


def test_weekly_repayment_on_the_disbursement_weekday__the_first_week_is_whole():
    """Disbursed Thursday 2026-01-15, repayment day Thursday (4): due 01-22 and 01-29, interest
    3000 × 5.2%/52 = 3.00 for the first, whole, week."""
    schedule = build_schedule(terms(periods=2, annual_rate=D("0.052"), frequency="weekly",
                                    due_day_rule="fixed_day", repayment_day=4))
    assert [(row.due_date, row.interest) for row in schedule.installments] == [
        (date(2026, 1, 22), D("3.00")), (date(2026, 1, 29), D("1.50"))]
