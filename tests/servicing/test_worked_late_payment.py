"""Worked example: a 12-month 等额本息 loan whose third installment is paid 35 days late.

12,000.00 at 12% a year (1% a month), disbursed 2026-01-15, due on the 15th. The level installment is
12000 × 0.01 × 1.01^12 / (1.01^12 − 1) = 1,066.19 (numpy-financial ``pmt`` agrees). Period 1: interest
120.00, principal 946.19 (balance 11,053.81); period 2: interest 110.54, principal 955.65 (balance
10,098.16); period 3: interest 100.98, principal 965.21; period 4: interest 91.33, principal 974.86.

Installments 1 and 2 are paid on their due dates. Installment 3 (due 2026-04-15) and installment 4 (due
2026-05-15) are paid together on 2026-05-20, 35 days after installment 3 fell due.

Penalty (罚息): contract rate 12% × 1.5 = 18% a year, ACT/360: 0.05% a day on each installment's overdue
principal: installment 3 bears 965.21 × 0.0005 = 0.482605 a day from 04-16, installment 4 bears
974.86 × 0.0005 = 0.48743 a day from 05-16, each on its own. Whole fen are posted each day and each
installment carries its own fraction, so by the end of a day each installment's penalty is its cumulative
exact amount rounded down to the fen. On 05-19: 34 × 0.482605 = 16.40857 → 16.40 plus 4 × 0.48743 =
1.94972 → 1.94, 18.34 in all; on 05-20: 35 × 0.482605 = 16.891175 → 16.89 plus 5 × 0.48743 = 2.43715 →
2.43, 19.32 in all.

Days past due: 1 on 04-16 … 30 on 05-15 (bucket M1), 31 on 05-16 (M2) … 34 on 05-19; class 关注
(special mention) from 04-16; state ``overdue`` from 04-16 and back to ``active`` once paid on 05-20.
The payment due on 05-20: 2 × 1,066.19 + 19.32 = 2,151.70.
"""

from datetime import date, timedelta
from decimal import ROUND_DOWN
from decimal import Decimal as D

import numpy_financial as npf
from sqlalchemy import select

from core.ledger import loan_balances
from core.loans.models import Loan
from core.loans.repayment import repay
from core.states import StateTransition
from servicing.helpers import book, check_books, close, installments


def expected_penalty(on: date) -> D:
    """Cumulative penalty posted by the end of ``on``, installment by installment, from the docstring."""
    days3 = max(0, (on - date(2026, 4, 15)).days)
    days4 = max(0, (on - date(2026, 5, 15)).days)
    return ((days3 * D("965.21") * D("0.0005")).quantize(D("0.01"), ROUND_DOWN)
            + (days4 * D("974.86") * D("0.0005")).quantize(D("0.01"), ROUND_DOWN))


def test_12m_loan_paid_35_days_late_on_period_3__penalty_dpd_bucket_class_each_day(books):
    session = books
    assert round(-npf.pmt(0.01, 12, 12000), 2) == 1066.19
    loan = book(session)
    rows = installments(session, loan.id)
    assert [(r.principal, r.interest) for r in rows[:4]] == [
        (D("946.19"), D("120.00")), (D("955.65"), D("110.54")), (D("965.21"), D("100.98")), (D("974.86"), D("91.33"))]
    close(session, date(2026, 1, 16))
    day = date(2026, 1, 17)
    observed = {}
    while day <= date(2026, 5, 20):
        if day in (date(2026, 2, 15), date(2026, 3, 15)):
            repay(session, loan_id=loan.id, amount="1066.19", on=day, today=day, channel="sandbox_bank",
                  key=f"pay-{day}", actor="tests")
        if day == date(2026, 5, 20):
            due = loan_balances(session, loan.id)
            event = repay(session, loan_id=loan.id, amount="2151.70", on=day, today=day, channel="sandbox_bank",
                          key="pay-late", actor="tests")
            assert event.result["excess"] == "0.00"
            assert due.penalty == expected_penalty(date(2026, 5, 19)) == D("18.34")
        close(session, day)
        session.commit()
        current = session.get(Loan, loan.id)
        session.refresh(current)
        paid = sum(r.paid_penalty for r in installments(session, loan.id))
        observed[day] = (current.days_past_due, current.bucket, current.five_tier, current.state,
                         loan_balances(session, loan.id).penalty + paid)
        day += timedelta(days=1)
    for on, (dpd, bucket, tier, state, penalty) in observed.items():
        late = max(0, (on - date(2026, 4, 15)).days) if on < date(2026, 5, 20) else 0
        assert dpd == late, on
        assert bucket == ("M0" if late == 0 else "M1" if late <= 30 else "M2"), on
        assert tier == ("normal" if late == 0 else "special_mention"), on
        assert state == ("overdue" if late else "active"), on
        assert penalty == expected_penalty(min(on, date(2026, 5, 20))), on
    assert observed[date(2026, 5, 20)][4] == D("19.32")
    rows = installments(session, loan.id)
    assert (rows[2].penalty, rows[3].penalty) == (D("16.89"), D("2.43"))
    assert [r.status for r in rows[:5]] == ["paid", "paid", "paid", "paid", "pending"]
    assert rows[2].paid_on == date(2026, 5, 20)
    transitions = session.scalars(select(StateTransition).where(StateTransition.entity_id == loan.id,
                                                                StateTransition.entity_type == "loan")
                                  .order_by(StateTransition.id)).all()
    assert [(t.from_state, t.to_state) for t in transitions] == [(None, "active"), ("active", "overdue"),
                                                                 ("overdue", "active")]
    check_books(session)
