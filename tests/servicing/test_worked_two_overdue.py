"""Worked example: two installments overdue at once, each bearing its own penalty, paid and waived on its own.

The loan of the late-payment example: 12,000.00 at 12% a year, 12 months of 1,066.19, disbursed 2026-01-15.
Installment 2 (due 03-15) owes interest 110.54 and principal 955.65; installment 3 (due 04-15) owes
interest 100.98 and principal 965.21. Installment 1 is paid on its due date; nothing more is paid until
04-20.

Penalty rate 12% × 1.5 / 360 = 0.05% a day, on each installment's own unpaid principal: installment 2
bears 955.65 × 0.0005 = 0.477825 a day from 03-16, installment 3 bears 965.21 × 0.0005 = 0.482605 a day
from 04-16. Each installment's penalty by the end of a day is its cumulative exact amount rounded down:

======  =====================  ======================  ============================================
day     installment 2          installment 3           loan
======  =====================  ======================  ============================================
04-14   30 d: 14.33475 → 14.33  not due                 14.33, 30 days past due (M1)
04-15   31 d: 14.812575 → 14.81 falls due: 0            14.81
04-16   32 d: 15.2904 → 15.29   1 d: 0.482605 → 0.48    15.77
04-17   33 d: 15.768225 → 15.76 2 d: 0.96521 → 0.96     16.72 (one loan-level sum would post 16.73)
04-18   34 d: 16.24605 → 16.24  3 d: 1.447815 → 1.44    17.68
04-19   35 d: 16.723875 → 16.72 4 d: 1.93042 → 1.93     18.65, 35 days past due (M2)
04-20   36 d: 17.2017 → 17.20   5 d: 2.413025 → 2.41    19.61
======  =====================  ======================  ============================================

On 04-20 the borrower pays 1,100.00. Penalty → fee → interest → principal, oldest installment first:
installment 2's penalty 17.20, interest 110.54 and principal 955.65 (1,083.39: it is paid), then
installment 3's penalty 2.41 and 14.20 of its interest (1,100.00 − 1,083.39 − 2.41). Installment 3 still
owes 86.78 interest and 965.21 principal; the loan is 5 days past due (M1) from installment 3's due date.

Installment 3 goes on by itself: on 04-21, its 6th day, 6 × 0.482605 = 2.89563 → 2.89 (0.48 posted that
day); on 04-22, 7 × 0.482605 = 3.378235 → 3.37. A waiver on 04-23 is taken after that day's penalty
(8 × 0.482605 = 3.86084 → 3.86), when installment 3 owes 3.86 − 2.41 paid = 1.45 of penalty: waiving 1.50
of it is refused, waiving 1.45 leaves it owing none; installment 2's penalty was paid, so nothing of it
can be waived.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from core.ledger import loan_balances
from core.loans.adjustments import waive_penalty
from core.loans.errors import AmountExceedsOutstandingError
from core.loans.models import Loan
from core.loans.repayment import repay
from servicing.helpers import book, check_books, close, installments

TABLE = {
    date(2026, 4, 14): ("14.33", "0", 30, "M1"),
    date(2026, 4, 15): ("14.81", "0", 31, "M2"),
    date(2026, 4, 16): ("15.29", "0.48", 32, "M2"),
    date(2026, 4, 17): ("15.76", "0.96", 33, "M2"),
    date(2026, 4, 18): ("16.24", "1.44", 34, "M2"),
    date(2026, 4, 19): ("16.72", "1.93", 35, "M2"),
}


def test_two_installments_overdue_at_once__each_bears_its_own_penalty_day_by_day(books):
    session = books
    loan = book(session)
    day = date(2026, 1, 16)
    seen = {}
    while day <= date(2026, 4, 19):
        if day == date(2026, 2, 15):
            repay(session, loan_id=loan.id, amount="1066.19", on=day, today=day, channel="sandbox_bank", key="p1",
                  actor="tests")
        close(session, day)
        session.commit()
        if day in TABLE:
            rows = installments(session, loan.id)
            current = session.get(Loan, loan.id)
            session.refresh(current)
            seen[day] = (rows[1].penalty, rows[2].penalty, current.days_past_due, current.bucket)
        day += timedelta(days=1)
    assert seen == {on: (D(p2), D(p3), dpd, bucket) for on, (p2, p3, dpd, bucket) in TABLE.items()}
    assert loan_balances(session, loan.id).penalty == D("18.65")

    event = repay(session, loan_id=loan.id, amount="1100.00", on=date(2026, 4, 20), today=date(2026, 4, 20),
                  channel="sandbox_bank", key="late", actor="tests")
    assert event.result["lines"] == [[2, "penalty", "17.20"], [2, "interest", "110.54"], [2, "principal", "955.65"],
                                     [3, "penalty", "2.41"], [3, "interest", "14.20"]]
    close(session, date(2026, 4, 20))
    session.commit()
    rows = installments(session, loan.id)
    assert (rows[1].status, rows[1].penalty, rows[1].paid_penalty) == ("paid", D("17.20"), D("17.20"))
    assert (rows[2].penalty, rows[2].paid_penalty, rows[2].interest - rows[2].paid_interest) == (
        D("2.41"), D("2.41"), D("86.78"))
    current = session.get(Loan, loan.id)
    session.refresh(current)
    assert (current.days_past_due, current.bucket) == (5, "M1")

    close(session, date(2026, 4, 21))
    close(session, date(2026, 4, 22))
    session.commit()
    assert installments(session, loan.id)[2].penalty == D("3.37")
    for period, amount in ((3, "1.50"), (2, "0.01")):
        with pytest.raises(AmountExceedsOutstandingError) as error:
            waive_penalty(session, loan_id=loan.id, amount=amount, on=date(2026, 4, 23), key=f"w-{period}",
                          actor="tests", period=period)
        assert error.value.field == "amount"
        session.rollback()
    waive_penalty(session, loan_id=loan.id, amount="1.45", on=date(2026, 4, 23), key="w3", actor="tests",
                  period=3, reason="hardship")
    session.commit()
    rows = installments(session, loan.id)
    assert (rows[2].penalty, rows[2].paid_penalty, rows[2].waived_penalty) == (D("3.86"), D("2.41"), D("1.45"))
    assert loan_balances(session, loan.id).penalty == 0
    check_books(session)
