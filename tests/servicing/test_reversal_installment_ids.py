"""A reversal puts a loan's installments back under new ids: an old id may belong to another loan by then.

Found by the stateful test (``test_stateful_books``) on SQLite, which reuses the largest ids of deleted
rows (a table without ``AUTOINCREMENT``): loan A (two installments, ids 1 and 2) is prepaid in full on the
day it is disbursed, which rebuilds its schedule and frees ids 1 and 2; loan B, disbursed next, gets them;
reversing A's prepayment then restored A's installments under ids 1 and 2 and failed on the unique key.
"""

from datetime import date
from decimal import Decimal as D

from core.loans.prepayment import prepay, prepayment_quote
from core.loans.reversal import reverse_repayment
from servicing.helpers import book, check_books, installments

DAY = date(2026, 3, 2)


def test_reversing_a_prepayment_after_another_loan_was_booked_restores_the_first_loans_schedule(books):
    first = book(books, principal="1000.00", rate="0.0435", periods=2, start=DAY, key="loan-a")
    books.commit()
    before = [(r.period, r.due_date, r.principal, r.interest, r.status) for r in installments(books, first.id)]
    quote = prepayment_quote(books, loan_id=first.id, on=DAY, today=DAY)
    prepaid = prepay(books, loan_id=first.id, amount=quote.total, on=DAY, today=DAY, channel="sandbox_bank",
                     key="prepay-a", actor="tests")
    books.commit()
    second = book(books, principal="1000.00", rate="0.0435", periods=2, start=DAY, key="loan-b")
    books.commit()
    others = [(r.id, r.period) for r in installments(books, second.id)]

    reverse_repayment(books, loan_id=first.id, repayment_id=prepaid.id, on=DAY, key="reverse-a", actor="tests")
    books.commit()

    after = [(r.period, r.due_date, r.principal, r.interest, r.status) for r in installments(books, first.id)]
    assert after == before
    assert [(r.id, r.period) for r in installments(books, second.id)] == others
    assert sum((r.principal for r in installments(books, first.id)), D(0)) == D("1000.00")
    check_books(books)
