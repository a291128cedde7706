"""Reading loans for the Python rule: exactly the loans asked for, each with its own open installments."""

from datetime import date

from servicing.helpers import book
from sqlalchemy import select

from core.loans.models import LoanInstallment
from core.loans.rows import load_loans


def test_listed_loans_are_read_with_their_installments_and_no_others(books):
    first, between, last = (book(books, start=date(2026, 1, 15)) for _ in range(3))
    books.flush()
    loaded = load_loans(books, date(2026, 3, 1), loan_ids=[first.id, last.id])
    assert [loan.id for loan, _, _ in loaded] == [first.id, last.id]
    for loan, _, rows in loaded:
        assert [row.period for row in sorted(rows, key=lambda r: r.period)] == [1, 2]  # started by March 1st
        own = set(books.scalars(select(LoanInstallment.id).where(LoanInstallment.loan_id == loan.id)))
        assert {row.id for row in rows} <= own
    assert between.id not in {loan.id for loan, _, _ in loaded}


def test_a_range_reads_each_open_loan_once_with_its_installments(books):
    ids = [book(books, start=date(2026, 1, 15)).id for _ in range(3)]
    books.flush()
    loaded = load_loans(books, date(2026, 3, 1), lo=ids[0], hi=ids[-1])
    assert [loan.id for loan, _, _ in loaded] == ids
    assert all(len(rows) == 2 for _, _, rows in loaded)
