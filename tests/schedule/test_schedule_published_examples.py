"""Published worked examples, figure for figure.

The 1,000,000 CNY / 4.9% / 30-year mortgage is the figure every Chinese bank calculator prints
(e.g. the 2019-2021 公积金/商贷 first-home examples): 等额本息 pays 5,307.27 a month, 等额本金 starts at
6,861.11 and falls by 11.34 a month (2,777.78 × 4.9% / 12).
"""

from datetime import date
from decimal import Decimal

from core.schedule import LoanTerms, build_schedule

D = Decimal


def test_equal_installment__1m_at_4_9pct_360_months_pays_5307_27():
    schedule = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15)))
    regular = {row.total for row in schedule.installments[:-1]}
    assert regular == {D("5307.27")}
    assert schedule.installments[0].interest == D("4083.33")
    assert schedule.total_principal == D(1000000)
    assert schedule.installments[-1].remaining_principal == 0


def test_equal_principal__1m_at_4_9pct_360_months_starts_6861_11_falls_11_34():
    schedule = build_schedule(LoanTerms(D(1000000), D("0.049"), 360, date(2026, 1, 15), method="equal_principal"))
    rows = schedule.installments
    assert rows[0].total == D("6861.11")
    assert rows[0].principal == D("2777.78")
    steps = {rows[k].total - rows[k + 1].total for k in range(0, 300)}
    assert steps <= {D("11.34"), D("11.35"), D("11.33")}
    assert rows[0].total - rows[1].total == D("11.34")
    assert schedule.total_principal == D(1000000)
