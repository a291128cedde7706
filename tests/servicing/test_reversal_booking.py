"""Worked example: a repayment reversed three days later is reversed on the day it is reversed.

Two identical loans (12,000.00 at 12%, 12 months of 1,066.19, disbursed 2026-01-15, installment 1 of
946.19 principal + 120.00 interest due 02-15). Loan A's installment 1 is paid on 02-15; loan B's is not.
The end-of-day closes 02-15, 02-16 and 02-17. On 02-18 the payment of loan A bounces and is reversed.

* The trial balance of 02-17 (every entry booked up to that day) is the same after the reversal as before.
* The entries booked on 02-18 hold the reversal: the repayment's entry mirrored (Dr 1303 principal 946.19,
  Dr 1132 interest 120.00 / Cr cash 1,066.19), each mirror referencing its entry and naming its value date
  02-15, and the replayed end-of-day of 02-16 and 02-17 for loan A as if unpaid: installment 1's penalty
  946.19 × 0.0005 = 0.473095 a day, 0.47 on 02-16 and 0.94 (0.94619) by 02-17, booked on 02-18 with value
  dates 02-16 and 02-17.
* Loan A is then loan B: same installments, same balances (principal 12,000.00 of which 946.19 overdue;
  interest 120.00 of installment 1 plus period 2's accrual through 02-17, 110.54 × 2 / 28 = 7.8957 → 7.90,
  127.90 in all; penalty 0.94), 2 days past due (M1), overdue. After the end-of-day of 02-18 both owe 1.41 of penalty
  (3 × 0.473095 = 1.419285).
"""

from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import select

from core.ledger import JournalEntry, loan_balances
from core.ledger.accounts import INTEREST_RECEIVABLE, PRINCIPAL_RECEIVABLE, cash_clearing
from core.loans.models import Loan
from core.loans.repayment import repay
from core.loans.reversal import reverse_repayment
from servicing.helpers import book, check_books, close, installments, trial_balance_through

FEB = {day: date(2026, 2, day) for day in range(14, 19)}


def picture(session, loan_id):
    session.expire_all()
    loan = session.get(Loan, loan_id)
    rows = [(r.period, r.status, r.interest_accrued, r.penalty, r.penalty_carry, r.paid_principal, r.paid_interest)
            for r in installments(session, loan_id)]
    return loan.state, loan.days_past_due, loan.bucket, loan_balances(session, loan_id).as_dict(), rows


def test_a_repayment_reversed_three_days_later_is_booked_today_and_leaves_the_loan_as_if_never_paid(books):
    session = books
    paid, unpaid = book(session), book(session)
    day = date(2026, 1, 16)
    while day <= FEB[17]:
        if day == FEB[15]:
            repayment = repay(session, loan_id=paid.id, amount="1066.19", on=day, today=day, channel="sandbox_bank",
                              key="bounced", actor="tests")
        close(session, day)
        day += timedelta(days=1)
    session.commit()
    before = trial_balance_through(session, FEB[17])
    last_entry = session.scalar(select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(1))

    reversal = reverse_repayment(session, loan_id=paid.id, repayment_id=repayment.id, on=FEB[18], key="rev",
                                 actor="tests", reason="direct debit returned")
    session.commit()

    assert trial_balance_through(session, FEB[17]) == before
    new = session.scalars(select(JournalEntry).where(JournalEntry.id > last_entry)
                          .order_by(JournalEntry.id)).all()
    assert {entry.business_date for entry in new} == {FEB[18]}
    originals = {entry.id: session.get(JournalEntry, entry.reverses_entry_id) for entry in new
                 if entry.event == "reversal"}
    [mirror] = [entry for entry in new if entry.id in originals and originals[entry.id].event == "repayment"]
    assert originals[mirror.id].business_date == FEB[15]
    assert "value date 2026-02-15" in mirror.memo
    assert sorted((p.account, p.debit, p.credit) for p in mirror.postings) == sorted([
        (cash_clearing("sandbox_bank"), D(0), D("1066.19")), (INTEREST_RECEIVABLE, D("120.00"), D(0)),
        (PRINCIPAL_RECEIVABLE, D("946.19"), D(0))])
    replayed_penalty = sorted((e.memo, sum(p.debit for p in e.postings)) for e in new if e.event == "eod_penalty")
    assert replayed_penalty == [("value date 2026-02-16", D("0.47")), ("value date 2026-02-17", D("0.47"))]
    assert reversal.params["value_date"] == "2026-02-15"

    assert picture(session, paid.id) == picture(session, unpaid.id)
    state, dpd, bucket, balances, rows = picture(session, paid.id)
    assert (state, dpd, bucket) == ("overdue", 2, "M1")
    assert (balances["principal"], balances["interest"], balances["penalty"]) == (D("12000.00"), D("127.90"),
                                                                                 D("0.94"))
    close(session, FEB[18])
    session.commit()
    assert picture(session, paid.id) == picture(session, unpaid.id)
    assert rows[0][3] == D("0.94") and loan_balances(session, paid.id).penalty == D("1.41")
    check_books(session)
