"""Servicing operations on a 12,000.00 / 12% / 12-month loan (installment 1,066.19, first due 2026-02-15;
installment 1 is interest 120.00 + principal 946.19)."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.backoffice.audit import ChangeRequest, request_change
from core.backoffice.users import User
from core.eod import run_eod
from core.ledger import JournalEntry, loan_balances
from core.ledger.accounts import FEE_RECEIVABLE, cash_clearing
from core.loans.adjustments import decide_adjustment, waive_penalty, write_off
from core.loans.context import ServicingDateError
from core.loans.errors import AmountExceedsOutstandingError, LoanNotServiceableError, RepaymentNotReversibleError
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.loans.repayment import apply_suspense, refund_suspense, repay
from core.loans.reversal import reverse_repayment
from servicing.helpers import book, check_books, installments

FEB_15 = date(2026, 2, 15)


def pay(session, loan, amount, on, key):
    return repay(session, loan_id=loan.id, amount=amount, on=on, today=on, channel="sandbox_bank", key=key,
                 actor="tests")


def close_days(session, first, last):
    day = first
    while day <= last:
        run_eod(session, day)
        day += timedelta(days=1)


def test_disbursement_pays_out_the_whole_principal_and_books_the_upfront_fee_as_a_receivable(books):
    loan = book(books, upfront_fee="300.00")
    cash = books.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.loan_id == loan.id))
    assert cash == 1
    balances = loan_balances(books, loan.id)
    assert (balances.principal, balances.fee) == (D("12000.00"), D("300.00"))
    rows = installments(books, loan.id)
    # due on the disbursement day: paid at disbursement, the time-0 flow the APR discounts
    assert (rows[0].period, rows[0].fee, rows[0].status, rows[0].due_date) == (0, D("300.00"), "due", loan.disbursed_on)
    entry = books.scalar(select(JournalEntry).where(JournalEntry.loan_id == loan.id))
    credits = {p.account: p.credit for p in entry.postings if p.credit}
    assert credits[cash_clearing("sandbox_bank")] == D("12000.00")
    assert FEE_RECEIVABLE not in credits
    check_books(books)


def test_disbursing_twice_with_one_key_books_one_loan(books):
    first = book(books, key="same")
    second = book(books, key="same")
    assert first.id == second.id
    assert books.scalar(select(func.count()).select_from(Loan)) == 1


def test_partial_payment_of_500_on_the_due_date_pays_interest_120_then_principal_380(books):
    loan = book(books)
    event = pay(books, loan, "500.00", FEB_15, "p1")
    assert event.result["lines"] == [[1, "interest", "120.00"], [1, "principal", "380.00"]]
    row = installments(books, loan.id)[0]
    assert (row.paid_interest, row.paid_principal, row.status) == (D("120.00"), D("380.00"), "due")
    check_books(books)


def test_over_payment_goes_to_suspense_and_is_applied_on_the_next_due_date(books):
    loan = book(books)
    event = pay(books, loan, "1500.00", FEB_15, "p1")
    assert event.result["excess"] == "433.81"
    assert loan_balances(books, loan.id).suspense == D("433.81")
    close_days(books, date(2026, 3, 14), date(2026, 3, 15))
    assert loan_balances(books, loan.id).suspense == 0
    row = installments(books, loan.id)[1]
    assert row.paid_interest + row.paid_principal == D("433.81")
    check_books(books)


def test_suspense_can_be_refunded_but_not_beyond_what_is_held(books):
    loan = book(books)
    pay(books, loan, "1100.00", FEB_15, "p1")
    with pytest.raises(AmountExceedsOutstandingError) as error:
        refund_suspense(books, loan_id=loan.id, amount="40.00", on=FEB_15, today=FEB_15, channel="sandbox_bank",
                        key="r0", actor="tests")
    assert error.value.field == "amount"
    refund_suspense(books, loan_id=loan.id, amount="33.81", on=FEB_15, today=FEB_15, channel="sandbox_bank", key="r1",
                    actor="tests")
    assert loan_balances(books, loan.id).suspense == 0
    check_books(books)


def test_apply_suspense_settles_what_is_due(books):
    loan = book(books)
    pay(books, loan, "1100.00", FEB_15, "p1")
    event = apply_suspense(books, loan_id=loan.id, on=date(2026, 3, 15), today=date(2026, 3, 15), key="a1",
                           actor="tests")
    assert loan_balances(books, loan.id).suspense == 0
    assert event.business_date == date(2026, 3, 15)
    check_books(books)


def test_a_repeated_repayment_key_takes_the_money_once(books):
    loan = book(books)
    first = pay(books, loan, "1066.19", FEB_15, "same")
    again = pay(books, loan, "1066.19", FEB_15, "same")
    assert first.id == again.id
    assert loan_balances(books, loan.id).principal == D("12000.00") - D("946.19")


def test_a_repayment_before_anything_is_due_waits_in_suspense(books):
    loan = book(books)
    event = pay(books, loan, "200.00", date(2026, 2, 1), "early")
    assert event.result == {"lines": [], "excess": "200.00"}
    check_books(books)


def test_penalty_waiver_forgives_penalty_and_not_more(books):
    loan = book(books)
    close_days(books, FEB_15, date(2026, 2, 25))
    owed = loan_balances(books, loan.id).penalty
    assert owed == D("4.73")  # 946.19 × 0.0005 × 10 days = 4.73095
    with pytest.raises(AmountExceedsOutstandingError):
        waive_penalty(books, loan_id=loan.id, amount="10.00", on=date(2026, 2, 26), key="w0", actor="tests")
    waive_penalty(books, loan_id=loan.id, amount="4.00", on=date(2026, 2, 26), key="w1", actor="tests")
    assert loan_balances(books, loan.id).penalty == owed + D("0.47") - D("4.00")  # day 11 charged first
    check_books(books)


def test_an_approved_waiver_request_is_carried_out_by_the_checker_a_rejected_one_is_not(books):
    """Operations files two waivers of 4.00 on 2026-02-26; finance rejects the first (nothing posted) and
    approves the second, which waives 4.00 as finance in the same transaction and is ``executed``."""
    loan = book(books)
    close_days(books, FEB_15, date(2026, 2, 25))
    maker = User(username="ops", role_names="operations", active=True)
    checker = User(username="fin", role_names="finance", active=True)
    params = {"business_date": "2026-02-26", "amount": "4.00"}
    filed = [request_change(books, maker=maker, kind="penalty_waiver", entity_type="loan", entity_id=loan.id,
                            params=params, reason="客户投诉") for _ in range(2)]
    decide_adjustment(books, filed[0], checker=checker, approve=False)
    assert filed[0].state == "rejected" and loan_balances(books, loan.id).penalty == D("4.73")
    decided = decide_adjustment(books, filed[1], checker=checker, approve=True, comment="同意")
    waiver = books.scalar(select(ServicingEvent).where(ServicingEvent.kind == "penalty_waiver"))
    assert decided.state == "executed" and (waiver.amount, waiver.actor) == (D("4.00"), "fin")
    assert waiver.request_key == f"change:{decided.id}"
    assert [c.state for c in books.scalars(select(ChangeRequest).order_by(ChangeRequest.id))] == ["rejected",
                                                                                                "executed"]
    check_books(books)


def test_write_off_clears_every_receivable_and_is_final(books):
    loan = book(books)
    close_days(books, date(2026, 3, 1), date(2026, 3, 20))
    event = write_off(books, loan_id=loan.id, on=date(2026, 3, 21), key="wo", actor="tests", reason="fraud")
    balances = loan_balances(books, loan.id)
    assert balances.receivable == 0
    assert D(event.result["written_off"]) > D("12000")
    books.expire_all()
    assert books.get(Loan, loan.id).state == "written_off"
    with pytest.raises(LoanNotServiceableError) as error:
        pay(books, loan, "100.00", date(2026, 3, 22), "late")
    assert error.value.field == "loan_id"
    close_days(books, date(2026, 3, 21), date(2026, 3, 22))
    assert loan_balances(books, loan.id).receivable == 0
    check_books(books)


def test_servicing_a_closed_business_date_is_refused(books):
    loan = book(books)
    close_days(books, date(2026, 2, 1), date(2026, 2, 2))
    with pytest.raises(ServicingDateError) as error:
        pay(books, loan, "100.00", date(2026, 2, 2), "old")
    assert error.value.field == "paid_on"


def test_reversing_a_repayment_replays_the_later_one_as_if_the_first_never_happened(books):
    """Loan A pays installment 1 on 02-15 (reversed on 03-20) and 1,066.19 on 03-15; twin B pays only the
    03-15 one. After the reversal, A is B: the 03-15 money now settles A's overdue installment 1 and its
    penalty first, and penalty runs on what is left overdue, day for day."""
    a, b = book(books), book(books)
    close_days(books, date(2026, 2, 10), date(2026, 2, 14))
    first = pay(books, a, "1066.19", FEB_15, "a1")
    close_days(books, FEB_15, date(2026, 3, 14))
    pay(books, a, "1066.19", date(2026, 3, 15), "a2")
    pay(books, b, "1066.19", date(2026, 3, 15), "b2")
    close_days(books, date(2026, 3, 15), date(2026, 3, 19))
    assert loan_balances(books, a.id) != loan_balances(books, b.id)
    reversal = reverse_repayment(books, loan_id=a.id, repayment_id=first.id, on=date(2026, 3, 20), key="rev",
                                 actor="tests", reason="bounced")
    assert reversal.result["replayed"]
    assert loan_balances(books, a.id) == loan_balances(books, b.id)
    fields = ("period", "status", "penalty", "interest_accrued", "paid_principal", "paid_interest", "paid_penalty")
    assert [[getattr(r, f) for f in fields] for r in installments(books, a.id)] == \
           [[getattr(r, f) for f in fields] for r in installments(books, b.id)]
    books.expire_all()
    loan_a, loan_b = books.get(Loan, a.id), books.get(Loan, b.id)
    assert (loan_a.state, loan_a.days_past_due, loan_a.bucket) == (loan_b.state, loan_b.days_past_due, loan_b.bucket)
    close_days(books, date(2026, 3, 20), date(2026, 3, 21))
    assert loan_balances(books, a.id) == loan_balances(books, b.id)
    check_books(books)
    with pytest.raises(RepaymentNotReversibleError):
        reverse_repayment(books, loan_id=a.id, repayment_id=first.id, on=date(2026, 3, 22), key="rev2",
                          actor="tests")
    assert books.get(ServicingEvent, first.id).status == "reversed"


def test_a_repayment_followed_by_a_write_off_cannot_be_reversed(books):
    loan = book(books)
    first = pay(books, loan, "1066.19", FEB_15, "p1")
    write_off(books, loan_id=loan.id, on=date(2026, 2, 16), key="wo", actor="tests")
    with pytest.raises(RepaymentNotReversibleError) as error:
        reverse_repayment(books, loan_id=loan.id, repayment_id=first.id, on=date(2026, 2, 17), key="rev",
                          actor="tests")
    assert error.value.field == "repayment_id"


@pytest.mark.parametrize("amount", ["0", "-5", "1.001"])
def test_a_repayment_that_is_not_positive_whole_fen_is_refused(books, amount):
    loan = book(books)
    with pytest.raises(Exception) as error:
        pay(books, loan, amount, FEB_15, f"bad{amount}")
    assert getattr(error.value, "field", None) == "amount"
