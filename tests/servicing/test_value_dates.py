"""The date and the amount a caller gives money coming in: one rule in the kernel for every face.

The loan: 12,000.00 / 12% / 12 months from 2026-01-15 (installment 1,066.19, first due 2026-02-15). Its
payoff before anything is paid is the whole schedule, 12 × 1,066.19 less the last one's rounding residue.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.loans.context import ServicingDateError
from core.loans.errors import AmountExceedsOutstandingError
from core.loans.events import ServicingEvent
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import apply_suspense, payoff, refund_suspense, repay
from servicing.helpers import book

FEB_10, FEB_15 = date(2026, 2, 10), date(2026, 2, 15)


def booked(session):
    """The loan, committed: each refusal below is rolled back as its caller would."""
    loan = book(session)
    session.commit()
    return loan


def pay(session, loan, amount, on, key, today=FEB_15):
    return repay(session, loan_id=loan.id, amount=amount, on=on, today=today, channel="sandbox_bank", key=key,
                 actor="tests")


def test_money_dated_after_today_is_refused_by_every_operation_naming_its_date(books):
    loan = booked(books)
    tomorrow = date(2026, 2, 16)
    refusals = [
        (lambda: pay(books, loan, "100.00", tomorrow, "r"), "paid_on"),
        (lambda: pay(books, loan, "100.00", date(9999, 12, 31), "r9"), "paid_on"),
        (lambda: prepay(books, loan_id=loan.id, amount="20000.00", on=tomorrow, today=FEB_15,
                        channel="sandbox_bank", key="p", actor="tests"), "on"),
        (lambda: prepayment_quote(books, loan_id=loan.id, on=tomorrow, today=FEB_15), "on"),
        (lambda: apply_suspense(books, loan_id=loan.id, on=tomorrow, today=FEB_15, key="a", actor="tests"), "on"),
        (lambda: refund_suspense(books, loan_id=loan.id, amount="1.00", on=tomorrow, today=FEB_15,
                                 channel="sandbox_bank", key="f", actor="tests"), "on"),
    ]
    for attempt, field in refusals:
        with pytest.raises(ServicingDateError) as error:
            attempt()
        assert error.value.field == field
        books.rollback()
    taken = select(func.count()).select_from(ServicingEvent).where(ServicingEvent.kind != "disbursement")
    assert books.scalar(taken) == 0


def test_money_dated_before_the_loan_s_last_event_is_refused_but_a_retry_of_an_earlier_one_is_answered(books):
    loan = booked(books)
    with pytest.raises(ServicingDateError) as before_payout:
        pay(books, loan, "100.00", date(2026, 1, 14), "early")
    assert before_payout.value.field == "paid_on"
    books.rollback()
    first = pay(books, loan, "100.00", FEB_10, "first")
    pay(books, loan, "100.00", FEB_15, "second")
    books.commit()
    with pytest.raises(ServicingDateError) as earlier:
        pay(books, loan, "100.00", FEB_10, "late-arrival")
    assert "before the loan's last booked event, on 2026-02-15" in str(earlier.value)
    books.rollback()
    assert pay(books, loan, "100.00", FEB_10, "first").id == first.id
    assert pay(books, loan, "100.00", FEB_15, "same-day").business_date == FEB_15


def test_money_beyond_twice_the_payoff_with_the_suspense_held_is_refused(books):
    loan = booked(books)
    owed = payoff(books, loan.id)
    assert D("12794.00") < owed < D("12795.00")
    with pytest.raises(AmountExceedsOutstandingError) as error:
        pay(books, loan, f"{2 * owed + D('0.01'):.2f}", FEB_10, "too-much")
    assert error.value.field == "amount"
    books.rollback()
    pay(books, loan, "20000.00", FEB_10, "parked")
    with pytest.raises(AmountExceedsOutstandingError):
        prepay(books, loan_id=loan.id, amount="20000.00", on=FEB_10, today=FEB_10, channel="sandbox_bank", key="pp",
               actor="tests")
