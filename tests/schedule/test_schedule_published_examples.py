"""Published worked examples, figure for figure.

The 1,000,000 CNY / 4.9% / 30-year mortgage is the figure every Chinese bank calculator prints (the
commercial first-home examples of 2019-2021): 等额本息 pays 5,307.27 a month (total interest 910,616.19
by the unrounded formula), 等额本金 starts at 6,861.11 (2,777.78 principal + 4,083.33 interest) and falls
by 11.34 a month (2,777.78 × 4.9% / 12 = 11.3426), total interest 1,000,000 × 0.049/12 × 361/2 =
737,041.67 by the unrounded formula. A schedule rounds every installment to the fen, so its total
interest may differ from the unrounded totals by at most half a fen per installment (1.80 over 360).
"""

from datetime import date
from decimal import Decimal, localcontext

import mortgagemath as mm

from core.schedule import LoanTerms, build_schedule

D = Decimal
HALF_FEN_PER_ROW = D("0.005") * 360


def test_equal_installment__1m_at_4_9pct_360_months_pays_5307_27():
    schedule = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15)))
    rows = schedule.installments
    assert {row.total for row in rows[:-1]} == {D("5307.27")}
    assert (rows[0].principal, rows[0].interest) == (D("1223.94"), D("4083.33"))
    assert schedule.total_principal == D(1000000)
    assert rows[-1].remaining_principal == 0
    assert abs(schedule.total_interest - D("910616.19")) <= HALF_FEN_PER_ROW


def test_equal_principal__1m_at_4_9pct_360_months_starts_6861_11_falls_11_34():
    schedule = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15), method="equal_principal"))
    rows = schedule.installments
    assert (rows[0].total, rows[0].principal, rows[0].interest) == (D("6861.11"), D("2777.78"), D("4083.33"))
    assert rows[0].total - rows[1].total == D("11.34")
    # 11.3426 a month, so each fall rounds to 11.34 or, now and then, 11.35 or 11.33
    assert {rows[k].total - rows[k + 1].total for k in range(358)} <= {D("11.33"), D("11.34"), D("11.35")}
    assert schedule.total_principal == D(1000000)
    assert abs(schedule.total_interest - D("737041.67")) <= HALF_FEN_PER_ROW


def test_equal_installment__1m_at_4_9pct_matches_mortgagemath_row_for_row():
    """mortgagemath (Decimal, validated against CFPB and Fannie Mae examples) with half-up payment and
    interest rounding amortises the same loan; all 360 rows agree to the fen, the last being
    5,283.62 principal + 21.57 interest = 5,305.19."""
    ours = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15))).installments
    theirs = mm.amortization_schedule(mm.LoanParams(
        principal=D(1000000), annual_rate=D("4.9"), term_months=360,
        payment_rounding=mm.PaymentRounding.ROUND_HALF_UP))[1:]
    assert [(r.principal, r.interest, r.remaining_principal) for r in ours] == [
        (r.principal, r.interest, r.balance) for r in theirs]
    assert (ours[-1].principal, ours[-1].interest, ours[-1].total) == (D("5283.62"), D("21.57"), D("5305.19"))


def test_a_caller_with_low_decimal_precision_gets_the_same_figures():
    """Decimal follows the caller's context; six digits would shift interest by fen without the guard."""
    with localcontext(prec=6):
        schedule = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15)))
    assert {row.total for row in schedule.installments[:-1]} == {D("5307.27")}
    assert schedule.installments[-1].total == D("5305.19")
