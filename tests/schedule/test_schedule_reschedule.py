"""Re-scheduling after a partial prepayment, worked by hand.

The loan: 12,000.00 CNY at 12% (1% a month), 12 monthly installments from 2026-01-15, ACT/360.
A = 12000 × 0.01 × 1.01^12 / (1.01^12 − 1) = 1066.1855 → 1066.19. Row 1: interest 120.00, principal
946.19, left 11053.81. Row 2: 110.5381 → 110.54, principal 955.65, left 10098.16. Then 3,000.00 of
principal is prepaid on 2026-04-01, leaving 7,098.16; the next installment (04-15) carries interest on
7,098.16 for the 14 days from 04-01: 7098.16 × 12% × 14/360 = 33.1247 → 33.12.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidArgumentError
from core.schedule import LoanTerms, build_schedule, reschedule

D = Decimal
START = date(2026, 1, 15)


def loan(method="equal_installment", **extra):
    return build_schedule(LoanTerms(D("12000.00"), D("0.12"), extra.pop("periods", 12), START, method, **extra))


def test_keep_term__3000_prepaid_on_1_april_lowers_the_installment_to_749_44(rows):
    """Ten installments remain: A' = 7098.16 × 0.01 × 1.01^10 / (1.01^10 − 1) = 749.4385 → 749.44.
    04-15: principal 749.44 − 70.98 (1% of 7098.16) = 678.46, interest 33.12, total 711.58, left 6419.70;
    05-15: 6419.70 × 1% = 64.197 → 64.20, principal 685.24, left 5734.46; ... 2027-01-15 (the same
    maturity): 741.99 + 7.42 = 749.41."""
    after = reschedule(loan(), date(2026, 4, 1), D("3000.00"), "keep_term")
    table = rows(after)
    assert len(table) == 12
    assert table[:2] == rows(loan())[:2]
    assert table[2] == ("2026-04-15", "678.46", "33.12", "711.58", "6419.70")
    assert table[3] == ("2026-05-15", "685.24", "64.20", "749.44", "5734.46")
    assert {row[3] for row in table[3:-1]} == {"749.44"}
    assert table[-1] == ("2027-01-15", "741.99", "7.42", "749.41", "0.00")
    assert after.installments[2].start == date(2026, 4, 1)


def test_keep_installment__3000_prepaid_on_1_april_ends_three_months_sooner(rows):
    """The installment stays 1066.19. 04-15: 1066.19 − 70.98 = 995.21 principal + 33.12 interest =
    1028.33, left 6102.95; 05-15: 61.0295 → 61.03, 1005.16, left 5097.79; 06-15: 50.98, 1015.21, left
    4082.58; 07-15: 40.83, 1025.36, left 3057.22; 08-15: 30.57, 1035.62, left 2021.60; 09-15: 20.22,
    1045.97, left 975.63; 10-15: the last takes 975.63 + 9.76 = 985.39. Nine installments in all."""
    table = rows(reschedule(loan(), date(2026, 4, 1), D("3000.00"), "keep_installment"))
    assert table[2:] == [
        ("2026-04-15", "995.21", "33.12", "1028.33", "6102.95"),
        ("2026-05-15", "1005.16", "61.03", "1066.19", "5097.79"),
        ("2026-06-15", "1015.21", "50.98", "1066.19", "4082.58"),
        ("2026-07-15", "1025.36", "40.83", "1066.19", "3057.22"),
        ("2026-08-15", "1035.62", "30.57", "1066.19", "2021.60"),
        ("2026-09-15", "1045.97", "20.22", "1066.19", "975.63"),
        ("2026-10-15", "975.63", "9.76", "985.39", "0.00"),
    ]


def test_keep_term__prepaid_on_a_due_date_the_next_month_is_whole(rows):
    """Prepaid on 03-15 with the second installment: the next period is a whole month, interest
    1% of 7098.16 = 70.98 and the installment exactly A' = 749.44."""
    table = rows(reschedule(loan(), date(2026, 3, 15), D("3000.00"), "keep_term"))
    assert table[2] == ("2026-04-15", "678.46", "70.98", "749.44", "6419.70")


def test_equal_principal__keep_installment_keeps_1000_a_month_keep_term_spreads_700(rows):
    """12,000 等额本金: 1000.00 principal a month; after two, 10,000 left; 3,000 prepaid on 03-15
    leaves 7,000. keep_installment: 1000 a month for 7 more months (last 2026-10-15), first interest
    7000 × 1% = 70.00. keep_term: 7000 / 10 = 700.00 a month to 2027-01-15."""
    schedule = loan("equal_principal")
    kept = rows(reschedule(schedule, date(2026, 3, 15), D("3000.00"), "keep_installment"))
    assert kept[2] == ("2026-04-15", "1000.00", "70.00", "1070.00", "6000.00")
    assert len(kept) == 9 and kept[-1] == ("2026-10-15", "1000.00", "10.00", "1010.00", "0.00")
    spread = rows(reschedule(schedule, date(2026, 3, 15), D("3000.00"), "keep_term"))
    assert spread[2] == ("2026-04-15", "700.00", "70.00", "770.00", "6300.00")
    assert len(spread) == 12 and spread[-1] == ("2027-01-15", "700.00", "7.00", "707.00", "0.00")


@pytest.mark.parametrize("mode", ["keep_term", "keep_installment"])
def test_interest_only__both_modes_keep_the_term_and_lower_the_interest(rows, mode):
    """12,000 先息后本, 3,000 prepaid on 03-15: 9,000 left, interest 90.00 a month, 9,090.00 at the end."""
    table = rows(reschedule(loan("interest_only"), date(2026, 3, 15), D("3000.00"), mode))
    assert table[2] == ("2026-04-15", "0.00", "90.00", "90.00", "9000.00")
    assert table[-1] == ("2027-01-15", "9000.00", "90.00", "9090.00", "0.00")


def test_bullet__prepaid_principal_reprices_the_remaining_days(rows):
    """12,000 bullet for 12 months; 2,000 prepaid on 2026-07-15 (the interest to date settled with it):
    10,000 × 12% × 184/360 (07-15 → 2027-01-15) = 613.33 at maturity."""
    table = rows(reschedule(loan("bullet"), date(2026, 7, 15), D("2000.00"), "keep_term"))
    assert table == [("2027-01-15", "10000.00", "613.33", "10613.33", "0.00")]


def test_prepaid_within_a_grace_period__the_grace_period_stays(rows):
    """3,000 over 3 months, first month interest-only grace; 1,000 prepaid on 02-01 leaves 2,000.
    02-15 (grace): interest 2000 × 12% × 14/360 = 9.33 only. Then A(2000, 2) = 2000 × 1.0201 / 2.01
    = 1015.0249 → 1015.02: 995.02 + 20.00, left 1004.98; last 1004.98 + 10.05 = 1015.03."""
    schedule = build_schedule(LoanTerms(D("3000.00"), D("0.12"), 3, START, grace_periods=1))
    assert rows(reschedule(schedule, date(2026, 2, 1), D("1000.00"), "keep_term")) == [
        ("2026-02-15", "0.00", "9.33", "9.33", "2000.00"),
        ("2026-03-15", "995.02", "20.00", "1015.02", "1004.98"),
        ("2026-04-15", "1004.98", "10.05", "1015.03", "0.00"),
    ]


@pytest.mark.parametrize(
    ("on", "amount", "mode", "field"),
    [
        (date(2026, 4, 1), D("0"), "keep_term", "principal_prepaid"),
        (date(2026, 4, 1), D("-1.00"), "keep_term", "principal_prepaid"),
        (date(2026, 4, 1), D("7098.16") + D("3000.00"), "keep_term", "principal_prepaid"),
        (date(2026, 4, 1), D("100.001"), "keep_term", "principal_prepaid"),
        (date(2026, 1, 1), D("100.00"), "keep_term", "on"),
        (date(2027, 1, 15), D("100.00"), "keep_term", "on"),
        ("2026-04-01", D("100.00"), "keep_term", "on"),
        (date(2026, 4, 1), D("100.00"), "shorter", "mode"),
    ],
)
def test_bad_prepayment_is_refused_naming_the_argument(on, amount, mode, field):
    with pytest.raises(InvalidArgumentError, match=field) as raised:
        reschedule(loan(), on, amount, mode)
    assert raised.value.field == field


def test_a_float_prepayment_is_refused():
    with pytest.raises(InvalidArgumentError, match="principal_prepaid"):
        reschedule(loan(), date(2026, 4, 1), 100.0, "keep_term")


def test_second_prepayment_keeps_the_installment_then_in_force(rows):
    """After the keep_term re-scheduling above (749.44 a month, 5042.36 left after 06-15), 1,000.00 more
    is prepaid on the 06-15 due date with keep_installment: 4042.36 left, whole months, 749.44 kept.
    07-15: 4042.36 × 1% = 40.42, principal 709.02, left 3333.34; 08-15: 33.33, 716.11, left 2617.23;
    09-15: 26.17, 723.27, left 1893.96; 10-15: 18.94, 730.50, left 1163.46; 11-15: 11.63, 737.81, left
    425.65; 12-15: the last, 425.65 + 4.26 = 429.91, a month before the original maturity."""
    first = reschedule(loan(), date(2026, 4, 1), D("3000.00"), "keep_term")
    second = rows(reschedule(first, date(2026, 6, 15), D("1000.00"), "keep_installment"))
    assert second[:5] == rows(first)[:5]
    assert second[5:] == [
        ("2026-07-15", "709.02", "40.42", "749.44", "3333.34"),
        ("2026-08-15", "716.11", "33.33", "749.44", "2617.23"),
        ("2026-09-15", "723.27", "26.17", "749.44", "1893.96"),
        ("2026-10-15", "730.50", "18.94", "749.44", "1163.46"),
        ("2026-11-15", "737.81", "11.63", "749.44", "425.65"),
        ("2026-12-15", "425.65", "4.26", "429.91", "0.00"),
    ]


def test_keep_installment_within_a_capitalised_grace_period(rows):
    """3,000 over 3 months, first month capitalised grace (A = 1537.76 afterwards, see the rules tests).
    1,000 prepaid on 02-01 leaves 2,000; 02-15 capitalises 2000 × 12% × 14/360 = 9.33 → 2009.33; 03-15
    keeps 1537.76: interest 20.09, principal 1517.67, left 491.66; 04-15: 491.66 + 4.92 = 496.58."""
    schedule = build_schedule(LoanTerms(D("3000.00"), D("0.12"), 3, START, grace_periods=1,
                                        grace_type="capitalised"))
    assert rows(reschedule(schedule, date(2026, 2, 1), D("1000.00"), "keep_installment")) == [
        ("2026-02-15", "0.00", "0.00", "0.00", "2009.33"),
        ("2026-03-15", "1517.67", "20.09", "1537.76", "491.66"),
        ("2026-04-15", "491.66", "4.92", "496.58", "0.00"),
    ]


def test_bullet_prepaid_twice__the_second_starts_from_what_the_first_left(rows):
    """12,000 bullet: 2,000 prepaid on 07-15 leaves 10,000; 1,000 more on 2026-09-15 leaves 9,000, priced
    for the 122 days to 2027-01-15: 9000 × 12% × 122/360 = 366.00."""
    once = reschedule(loan("bullet"), date(2026, 7, 15), D("2000.00"), "keep_term")
    assert rows(reschedule(once, date(2026, 9, 15), D("1000.00"), "keep_term")) == [
        ("2027-01-15", "9000.00", "366.00", "9366.00", "0.00")]


def test_two_prepayments_on_the_same_due_date_add_up():
    """3,000 then 1,000 prepaid on the 03-15 due date leave 10098.16 − 4000 = 6098.16 for the 10 months
    ahead, the same as 4,000 at once."""
    once = reschedule(loan(), date(2026, 3, 15), D("3000.00"), "keep_term")
    twice = reschedule(once, date(2026, 3, 15), D("1000.00"), "keep_term")
    at_once = reschedule(loan(), date(2026, 3, 15), D("4000.00"), "keep_term")
    assert twice.installments == at_once.installments
    assert sum(row.principal for row in twice.installments[2:]) == D("6098.16")
