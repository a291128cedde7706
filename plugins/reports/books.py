"""Reading the books for reports: loans with their installments, and journal sums, in set-based chunks.

Loans are read in chunks of :data:`CHUNK` ids (one query for the loans, one for all their installments,
one per journal sum), so a report over a million loans holds one chunk in memory at a time. Sums of money
are done by PostgreSQL (``GROUP BY``); on SQLite, which would sum the decimal text as floats, the rows
are fetched and summed exactly in Python, as :func:`core.ledger.trial_balance` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core.ledger import JournalEntry, Posting
from core.ledger.accounts import CASH_CLEARING_PREFIX, PRINCIPAL_RECEIVABLE
from core.loans.models import Loan, LoanInstallment
from core.portfolio.positions import Due, LoanFacts

CHUNK = 5000
ZERO = Decimal(0)


def iter_loans(session: Session, *, opened_by: date, open_after: date, chunk: int = CHUNK) -> Iterator[list[LoanFacts]]:
    """Loans disbursed by ``opened_by`` and not closed before ``open_after``, in chunks by id."""
    last_id = 0
    while True:
        loans = session.execute(
            select(Loan.id, Loan.customer_id, Loan.product_code, Loan.principal, Loan.disbursed_on,
                   Loan.maturity_date, Loan.closed_on, Loan.state)
            .where(Loan.id > last_id, Loan.disbursed_on <= opened_by,
                   or_(Loan.closed_on.is_(None), Loan.closed_on >= open_after))
            .order_by(Loan.id).limit(chunk)).all()
        if not loans:
            return
        ids = [row.id for row in loans]
        dues: dict[int, list[Due]] = defaultdict(list)
        for row in session.execute(
                select(LoanInstallment.loan_id, LoanInstallment.period, LoanInstallment.due_date,
                       LoanInstallment.principal, LoanInstallment.interest, LoanInstallment.fee,
                       LoanInstallment.paid_principal, LoanInstallment.paid_interest, LoanInstallment.paid_fee,
                       LoanInstallment.status, LoanInstallment.paid_on)
                .where(LoanInstallment.loan_id.in_(ids))
                .order_by(LoanInstallment.loan_id, LoanInstallment.due_date, LoanInstallment.period)):
            dues[row.loan_id].append(Due(*row[1:]))
        yield [LoanFacts(id=row.id, customer_id=row.customer_id, product_code=row.product_code,
                         principal=row.principal, disbursed_on=row.disbursed_on, maturity_date=row.maturity_date,
                         closed_on=row.closed_on, state=row.state, installments=tuple(dues[row.id]))
               for row in loans]
        last_id = ids[-1]


def _sum_by_loan(session: Session, statement: Select[Any], column: Any) -> dict[int, Decimal]:
    """``statement`` selects (loan_id, amount) rows; their sum per loan."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if session.get_bind().dialect.name == "postgresql":
        grouped = statement.with_only_columns(Posting.loan_id, func.sum(column)).group_by(Posting.loan_id)
        for loan_id, amount in session.execute(grouped):
            totals[loan_id] += amount or ZERO
    else:
        for loan_id, amount in session.execute(statement):
            totals[loan_id] += amount
    return dict(totals)


def principal_balances(session: Session, loan_ids: Sequence[int], day: date) -> dict[int, Decimal]:
    """Each loan's principal receivable (account 1303, debit − credit) at the end of ``day``."""
    if not loan_ids:
        return {}
    base = (select(Posting.loan_id, Posting.debit).join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .where(Posting.account == PRINCIPAL_RECEIVABLE, Posting.loan_id.in_(loan_ids),
                   JournalEntry.business_date <= day))
    debits = _sum_by_loan(session, base, Posting.debit)
    credits = _sum_by_loan(session, base.with_only_columns(Posting.loan_id, Posting.credit), Posting.credit)
    return {loan_id: debits.get(loan_id, ZERO) - credits.get(loan_id, ZERO) for loan_id in loan_ids}


def _cash_in(loan_ids: Sequence[int]) -> Select[Any]:
    return (select(Posting.loan_id, Posting.debit).join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .where(Posting.account.startswith(CASH_CLEARING_PREFIX + "."), Posting.loan_id.in_(loan_ids)))


def cash_received(session: Session, loan_ids: Sequence[int], start: date, end: date) -> dict[int, Decimal]:
    """Money received from each loan's borrower (gross debits of cash clearing) with business dates in the range."""
    if not loan_ids:
        return {}
    statement = _cash_in(loan_ids).where(JournalEntry.business_date >= start, JournalEntry.business_date <= end)
    return _sum_by_loan(session, statement, Posting.debit)


def last_receipts(session: Session, loan_ids: Sequence[int], end: date) -> dict[int, tuple[date, Decimal]]:
    """Each loan's latest day with money received up to ``end``, and the amount received that day."""
    if not loan_ids:
        return {}
    rows = session.execute(_cash_in(loan_ids).add_columns(JournalEntry.business_date)
                           .where(JournalEntry.business_date <= end)).all()
    latest: dict[int, tuple[date, Decimal]] = {}
    for loan_id, amount, day in rows:
        if not amount:
            continue  # a credit of cash clearing (a payout), not a receipt
        seen = latest.get(loan_id)
        if seen is None or day > seen[0]:
            latest[loan_id] = (day, amount)
        elif day == seen[0]:
            latest[loan_id] = (day, seen[1] + amount)
    return latest
