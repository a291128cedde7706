"""Every method x frequency x due-day rule, worked by hand.

All cases lend 3,000.00 CNY disbursed on Thursday 2026-01-15 over 2 periods, day count ACT/360, half-up
to the fen. The annual rates are chosen so the period rate is round: 12% monthly and 4% quarterly give
i = 1%; 5.2% weekly (/52) and 2.6% bi-weekly (/26) give i = 0.1%. The fixed repayment day is the 20th
for monthly and quarterly loans and Monday (ISO weekday 1) for weekly and bi-weekly ones.

Formulas used by hand (see docs/schedules.md): for two periods the level installment is
A = P·i·(1+i)² / ((1+i)² − 1) = P·(1+i)² / (2+i); a broken first period with ``actual_days`` pays
P·annual·days/360; with ``extra_days`` it pays P·i + P·annual·extra days/360; the last installment
takes the remaining principal. Each docstring lists the figures as "due: principal + interest = total,
left".
"""

from datetime import date
from decimal import Decimal

from core.schedule import LoanTerms, build_schedule

START = date(2026, 1, 15)  # a Thursday


def schedule(method, frequency, annual, rule="same_day", periods=2):
    day = 20 if frequency in ("monthly", "quarterly") else 1
    fixed = {} if rule == "same_day" else {"due_day_rule": "fixed_day", "repayment_day": day, "first_period": rule}
    return build_schedule(LoanTerms(Decimal("3000.00"), Decimal(annual), periods, START, method=method,
                                    frequency=frequency, **fixed))


# -- 等额本息 equal installment ---------------------------------------------------------------------------


def test_equal_installment_monthly__3000_at_12pct_pays_1522_54(rows):
    """i = 1%, A = 3000 × 1.0201 / 2.01 = 1522.5373 → 1522.54.

    same_day (02-15, 03-15): 1492.54 + 30.00 = 1522.54, left 1507.46; 1507.46 + 15.07 (1507.46 × 1%
    = 15.0746) = 1522.53, left 0.00.
    fixed 20th, actual_days: first due 01-20 (5 days): interest 3000 × 12% × 5/360 = 5.00, principal stays
    A − 30.00 = 1492.54, total 1497.54; then 02-20: 1507.46 + 15.07 = 1522.53.
    fixed 20th, extra_days: extra days 01-15 → 01-20 (5); first due 02-20: interest 30.00 + 5.00 = 35.00,
    1492.54 + 35.00 = 1527.54; then 03-20: 1507.46 + 15.07 = 1522.53.
    """
    m = ("equal_installment", "monthly", "0.12")
    assert rows(schedule(*m)) == [("2026-02-15", "1492.54", "30.00", "1522.54", "1507.46"),
                                  ("2026-03-15", "1507.46", "15.07", "1522.53", "0.00")]
    assert rows(schedule(*m, "actual_days")) == [("2026-01-20", "1492.54", "5.00", "1497.54", "1507.46"),
                                                 ("2026-02-20", "1507.46", "15.07", "1522.53", "0.00")]
    assert rows(schedule(*m, "extra_days")) == [("2026-02-20", "1492.54", "35.00", "1527.54", "1507.46"),
                                                ("2026-03-20", "1507.46", "15.07", "1522.53", "0.00")]


def test_equal_installment_quarterly__3000_at_4pct_pays_1522_54(rows):
    """i = 4%/4 = 1%, A = 1522.54 as for the monthly case.

    same_day (04-15, 07-15): 1492.54 + 30.00 = 1522.54; 1507.46 + 15.07 = 1522.53.
    fixed 20th, actual_days: the first 20th after 03-15 (one period less one month) is 03-20, 64 days:
    3000 × 4% × 64/360 = 21.333 → 21.33; 1492.54 + 21.33 = 1513.87; then 06-20: 1507.46 + 15.07.
    fixed 20th, extra_days: 5 extra days to 01-20, due 04-20: 30.00 + 3000 × 4% × 5/360 (1.6667) = 31.67;
    1492.54 + 31.67 = 1524.21; then 07-20: 1507.46 + 15.07 = 1522.53.
    """
    q = ("equal_installment", "quarterly", "0.04")
    assert rows(schedule(*q)) == [("2026-04-15", "1492.54", "30.00", "1522.54", "1507.46"),
                                  ("2026-07-15", "1507.46", "15.07", "1522.53", "0.00")]
    assert rows(schedule(*q, "actual_days")) == [("2026-03-20", "1492.54", "21.33", "1513.87", "1507.46"),
                                                 ("2026-06-20", "1507.46", "15.07", "1522.53", "0.00")]
    assert rows(schedule(*q, "extra_days")) == [("2026-04-20", "1492.54", "31.67", "1524.21", "1507.46"),
                                                ("2026-07-20", "1507.46", "15.07", "1522.53", "0.00")]


def test_equal_installment_weekly__3000_at_5_2pct_pays_1502_25(rows):
    """i = 5.2%/52 = 0.1%, A = 3000 × 1.002001 / 2.001 = 1502.2504 → 1502.25.

    same_day (01-22, 01-29): 1499.25 + 3.00 = 1502.25, left 1500.75; 1500.75 + 1.50 (1.50075) = 1502.25.
    fixed Monday, actual_days: first Monday after disbursement 01-19 (4 days): 3000 × 5.2% × 4/360
    = 1.7333 → 1.73; 1499.25 + 1.73 = 1500.98; then 01-26: 1500.75 + 1.50 = 1502.25.
    fixed Monday, extra_days: 4 extra days to 01-19, due 01-26: 3.00 + 1.7333 = 4.7333 → 4.73;
    1499.25 + 4.73 = 1503.98; then 02-02: 1500.75 + 1.50 = 1502.25.
    """
    w = ("equal_installment", "weekly", "0.052")
    assert rows(schedule(*w)) == [("2026-01-22", "1499.25", "3.00", "1502.25", "1500.75"),
                                  ("2026-01-29", "1500.75", "1.50", "1502.25", "0.00")]
    assert rows(schedule(*w, "actual_days")) == [("2026-01-19", "1499.25", "1.73", "1500.98", "1500.75"),
                                                 ("2026-01-26", "1500.75", "1.50", "1502.25", "0.00")]
    assert rows(schedule(*w, "extra_days")) == [("2026-01-26", "1499.25", "4.73", "1503.98", "1500.75"),
                                                ("2026-02-02", "1500.75", "1.50", "1502.25", "0.00")]


def test_equal_installment_biweekly__3000_at_2_6pct_pays_1502_25(rows):
    """i = 2.6%/26 = 0.1%, A = 1502.25 as for the weekly case.

    same_day (01-29, 02-12): 1499.25 + 3.00 = 1502.25; 1500.75 + 1.50 = 1502.25.
    fixed Monday, actual_days: the first Monday after 01-22 (one period less one week) is 01-26, 11 days:
    3000 × 2.6% × 11/360 = 2.3833 → 2.38; 1499.25 + 2.38 = 1501.63; then 02-09: 1500.75 + 1.50.
    fixed Monday, extra_days: 4 extra days to 01-19, due 02-02: 3.00 + 3000 × 2.6% × 4/360 (0.8667)
    = 3.87; 1499.25 + 3.87 = 1503.12; then 02-16: 1500.75 + 1.50 = 1502.25.
    """
    b = ("equal_installment", "biweekly", "0.026")
    assert rows(schedule(*b)) == [("2026-01-29", "1499.25", "3.00", "1502.25", "1500.75"),
                                  ("2026-02-12", "1500.75", "1.50", "1502.25", "0.00")]
    assert rows(schedule(*b, "actual_days")) == [("2026-01-26", "1499.25", "2.38", "1501.63", "1500.75"),
                                                 ("2026-02-09", "1500.75", "1.50", "1502.25", "0.00")]
    assert rows(schedule(*b, "extra_days")) == [("2026-02-02", "1499.25", "3.87", "1503.12", "1500.75"),
                                                ("2026-02-16", "1500.75", "1.50", "1502.25", "0.00")]


# -- 等额本金 equal principal -----------------------------------------------------------------------------


def test_equal_principal_monthly__3000_at_12pct_repays_1500_a_month(rows):
    """Principal 3000 / 2 = 1500.00 each month; interest on the balance at 1%.

    same_day: 1500 + 30.00 = 1530.00; 1500 + 15.00 = 1515.00.
    actual_days (01-20, 5 days): 1500 + 5.00 = 1505.00; 02-20: 1500 + 15.00 = 1515.00.
    extra_days (02-20): 1500 + (30.00 + 5.00) = 1535.00; 03-20: 1500 + 15.00 = 1515.00.
    """
    m = ("equal_principal", "monthly", "0.12")
    assert rows(schedule(*m)) == [("2026-02-15", "1500.00", "30.00", "1530.00", "1500.00"),
                                  ("2026-03-15", "1500.00", "15.00", "1515.00", "0.00")]
    assert rows(schedule(*m, "actual_days")) == [("2026-01-20", "1500.00", "5.00", "1505.00", "1500.00"),
                                                 ("2026-02-20", "1500.00", "15.00", "1515.00", "0.00")]
    assert rows(schedule(*m, "extra_days")) == [("2026-02-20", "1500.00", "35.00", "1535.00", "1500.00"),
                                                ("2026-03-20", "1500.00", "15.00", "1515.00", "0.00")]


def test_equal_principal_quarterly__3000_at_4pct_repays_1500_a_quarter(rows):
    """Principal 1500.00 a quarter, interest at 1% a quarter.

    same_day (04-15, 07-15): 1500 + 30.00; 1500 + 15.00.
    actual_days (03-20, 64 days): 1500 + 21.33 (3000 × 4% × 64/360) = 1521.33; 06-20: 1500 + 15.00.
    extra_days (04-20): 1500 + 31.67 (30.00 + 1.6667) = 1531.67; 07-20: 1500 + 15.00.
    """
    q = ("equal_principal", "quarterly", "0.04")
    assert rows(schedule(*q)) == [("2026-04-15", "1500.00", "30.00", "1530.00", "1500.00"),
                                  ("2026-07-15", "1500.00", "15.00", "1515.00", "0.00")]
    assert rows(schedule(*q, "actual_days")) == [("2026-03-20", "1500.00", "21.33", "1521.33", "1500.00"),
                                                 ("2026-06-20", "1500.00", "15.00", "1515.00", "0.00")]
    assert rows(schedule(*q, "extra_days")) == [("2026-04-20", "1500.00", "31.67", "1531.67", "1500.00"),
                                                ("2026-07-20", "1500.00", "15.00", "1515.00", "0.00")]


def test_equal_principal_weekly__3000_at_5_2pct_repays_1500_a_week(rows):
    """Principal 1500.00 a week, interest at 0.1% a week.

    same_day (01-22, 01-29): 1500 + 3.00 = 1503.00; 1500 + 1.50 = 1501.50.
    actual_days (01-19, 4 days): 1500 + 1.73 = 1501.73; 01-26: 1500 + 1.50.
    extra_days (01-26): 1500 + 4.73 = 1504.73; 02-02: 1500 + 1.50.
    """
    w = ("equal_principal", "weekly", "0.052")
    assert rows(schedule(*w)) == [("2026-01-22", "1500.00", "3.00", "1503.00", "1500.00"),
                                  ("2026-01-29", "1500.00", "1.50", "1501.50", "0.00")]
    assert rows(schedule(*w, "actual_days")) == [("2026-01-19", "1500.00", "1.73", "1501.73", "1500.00"),
                                                 ("2026-01-26", "1500.00", "1.50", "1501.50", "0.00")]
    assert rows(schedule(*w, "extra_days")) == [("2026-01-26", "1500.00", "4.73", "1504.73", "1500.00"),
                                                ("2026-02-02", "1500.00", "1.50", "1501.50", "0.00")]


def test_equal_principal_biweekly__3000_at_2_6pct_repays_1500_a_fortnight(rows):
    """Principal 1500.00 a fortnight, interest at 0.1%.

    same_day (01-29, 02-12): 1500 + 3.00; 1500 + 1.50.
    actual_days (01-26, 11 days): 1500 + 2.38; 02-09: 1500 + 1.50.
    extra_days (02-02): 1500 + 3.87; 02-16: 1500 + 1.50.
    """
    b = ("equal_principal", "biweekly", "0.026")
    assert rows(schedule(*b)) == [("2026-01-29", "1500.00", "3.00", "1503.00", "1500.00"),
                                  ("2026-02-12", "1500.00", "1.50", "1501.50", "0.00")]
    assert rows(schedule(*b, "actual_days")) == [("2026-01-26", "1500.00", "2.38", "1502.38", "1500.00"),
                                                 ("2026-02-09", "1500.00", "1.50", "1501.50", "0.00")]
    assert rows(schedule(*b, "extra_days")) == [("2026-02-02", "1500.00", "3.87", "1503.87", "1500.00"),
                                                ("2026-02-16", "1500.00", "1.50", "1501.50", "0.00")]


# -- 先息后本 interest only ------------------------------------------------------------------------------


def test_interest_only_monthly__3000_at_12pct_pays_30_then_3030(rows):
    """Interest 3000 × 1% = 30.00 a month, all principal with the last.

    same_day: 0 + 30.00; 3000 + 30.00 = 3030.00.
    actual_days (01-20, 5 days): 0 + 5.00; 02-20: 3030.00.
    extra_days (02-20): 0 + 35.00; 03-20: 3030.00.
    """
    m = ("interest_only", "monthly", "0.12")
    assert rows(schedule(*m)) == [("2026-02-15", "0.00", "30.00", "30.00", "3000.00"),
                                  ("2026-03-15", "3000.00", "30.00", "3030.00", "0.00")]
    assert rows(schedule(*m, "actual_days")) == [("2026-01-20", "0.00", "5.00", "5.00", "3000.00"),
                                                 ("2026-02-20", "3000.00", "30.00", "3030.00", "0.00")]
    assert rows(schedule(*m, "extra_days")) == [("2026-02-20", "0.00", "35.00", "35.00", "3000.00"),
                                                ("2026-03-20", "3000.00", "30.00", "3030.00", "0.00")]


def test_interest_only_quarterly__3000_at_4pct_pays_30_a_quarter(rows):
    """Interest 30.00 a quarter; broken first periods 21.33 (64 days) and 31.67 (30.00 + 5 days)."""
    q = ("interest_only", "quarterly", "0.04")
    assert rows(schedule(*q)) == [("2026-04-15", "0.00", "30.00", "30.00", "3000.00"),
                                  ("2026-07-15", "3000.00", "30.00", "3030.00", "0.00")]
    assert rows(schedule(*q, "actual_days")) == [("2026-03-20", "0.00", "21.33", "21.33", "3000.00"),
                                                 ("2026-06-20", "3000.00", "30.00", "3030.00", "0.00")]
    assert rows(schedule(*q, "extra_days")) == [("2026-04-20", "0.00", "31.67", "31.67", "3000.00"),
                                                ("2026-07-20", "3000.00", "30.00", "3030.00", "0.00")]


def test_interest_only_weekly__3000_at_5_2pct_pays_3_a_week(rows):
    """Interest 3000 × 0.1% = 3.00 a week; broken first periods 1.73 (4 days) and 4.73 (3.00 + 4 days)."""
    w = ("interest_only", "weekly", "0.052")
    assert rows(schedule(*w)) == [("2026-01-22", "0.00", "3.00", "3.00", "3000.00"),
                                  ("2026-01-29", "3000.00", "3.00", "3003.00", "0.00")]
    assert rows(schedule(*w, "actual_days")) == [("2026-01-19", "0.00", "1.73", "1.73", "3000.00"),
                                                 ("2026-01-26", "3000.00", "3.00", "3003.00", "0.00")]
    assert rows(schedule(*w, "extra_days")) == [("2026-01-26", "0.00", "4.73", "4.73", "3000.00"),
                                                ("2026-02-02", "3000.00", "3.00", "3003.00", "0.00")]


def test_interest_only_biweekly__3000_at_2_6pct_pays_3_a_fortnight(rows):
    """Interest 3.00 a fortnight; broken first periods 2.38 (11 days) and 3.87 (3.00 + 0.8667)."""
    b = ("interest_only", "biweekly", "0.026")
    assert rows(schedule(*b)) == [("2026-01-29", "0.00", "3.00", "3.00", "3000.00"),
                                  ("2026-02-12", "3000.00", "3.00", "3003.00", "0.00")]
    assert rows(schedule(*b, "actual_days")) == [("2026-01-26", "0.00", "2.38", "2.38", "3000.00"),
                                                 ("2026-02-09", "3000.00", "3.00", "3003.00", "0.00")]
    assert rows(schedule(*b, "extra_days")) == [("2026-02-02", "0.00", "3.87", "3.87", "3000.00"),
                                                ("2026-02-16", "3000.00", "3.00", "3003.00", "0.00")]


# -- 到期还本付息 bullet: one payment at maturity, P × annual × days / 360 ------------------------------------


def test_bullet_monthly__3000_at_12pct_for_two_months(rows):
    """same_day: matures 03-15, 59 days: 3000 × 12% × 59/360 = 59.00.
    actual_days: matures 02-20 (second 20th), 36 days: 36.00. extra_days: matures 03-20, 64 days: 64.00."""
    m = ("bullet", "monthly", "0.12")
    assert rows(schedule(*m)) == [("2026-03-15", "3000.00", "59.00", "3059.00", "0.00")]
    assert rows(schedule(*m, "actual_days")) == [("2026-02-20", "3000.00", "36.00", "3036.00", "0.00")]
    assert rows(schedule(*m, "extra_days")) == [("2026-03-20", "3000.00", "64.00", "3064.00", "0.00")]


def test_bullet_quarterly__3000_at_4pct_for_two_quarters(rows):
    """same_day: 07-15, 181 days: 3000 × 4% × 181/360 = 60.333 → 60.33.
    actual_days: 06-20, 156 days: 52.00. extra_days: 07-20, 186 days: 62.00."""
    q = ("bullet", "quarterly", "0.04")
    assert rows(schedule(*q)) == [("2026-07-15", "3000.00", "60.33", "3060.33", "0.00")]
    assert rows(schedule(*q, "actual_days")) == [("2026-06-20", "3000.00", "52.00", "3052.00", "0.00")]
    assert rows(schedule(*q, "extra_days")) == [("2026-07-20", "3000.00", "62.00", "3062.00", "0.00")]


def test_bullet_weekly__3000_at_5_2pct_for_two_weeks(rows):
    """same_day: 01-29, 14 days: 3000 × 5.2% × 14/360 = 6.0667 → 6.07.
    actual_days: 01-26, 11 days: 4.7667 → 4.77. extra_days: 02-02, 18 days: 7.80."""
    w = ("bullet", "weekly", "0.052")
    assert rows(schedule(*w)) == [("2026-01-29", "3000.00", "6.07", "3006.07", "0.00")]
    assert rows(schedule(*w, "actual_days")) == [("2026-01-26", "3000.00", "4.77", "3004.77", "0.00")]
    assert rows(schedule(*w, "extra_days")) == [("2026-02-02", "3000.00", "7.80", "3007.80", "0.00")]


def test_bullet_biweekly__3000_at_2_6pct_for_two_fortnights(rows):
    """same_day: 02-12, 28 days: 3000 × 2.6% × 28/360 = 6.0667 → 6.07.
    actual_days: 02-09, 25 days: 5.4167 → 5.42. extra_days: 02-16, 32 days: 6.9333 → 6.93."""
    b = ("bullet", "biweekly", "0.026")
    assert rows(schedule(*b)) == [("2026-02-12", "3000.00", "6.07", "3006.07", "0.00")]
    assert rows(schedule(*b, "actual_days")) == [("2026-02-09", "3000.00", "5.42", "3005.42", "0.00")]
    assert rows(schedule(*b, "extra_days")) == [("2026-02-16", "3000.00", "6.93", "3006.93", "0.00")]


def test_bullet_daily__3000_at_12pct_for_30_days_pays_3030(rows):
    """A 30-day loan: matures 2026-02-14; ACT/360: 3000 × 12% × 30/360 = 30.00;
    ACT/365F: 3000 × 12% × 30/365 = 29.589 → 29.59."""
    assert rows(schedule("bullet", "daily", "0.12", periods=30)) == [
        ("2026-02-14", "3000.00", "30.00", "3030.00", "0.00")]
    act365 = build_schedule(LoanTerms(Decimal(3000), Decimal("0.12"), 30, START, "bullet", "daily", "ACT/365F"))
    assert rows(act365) == [("2026-02-14", "3000.00", "29.59", "3029.59", "0.00")]
