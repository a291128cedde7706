"""Builders and checks shared by the servicing and end-of-day tests."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

import core.applications.models
import core.businessday.calendar
import core.businessday.closes
import core.loans.events
from core.customers.parties import Customer
from core.eod import run_eod
from core.ledger import JournalEntry, LoanBalance, Posting, compare_projection, trial_balance
from core.loans.contract import ServicingRules
from core.loans.disbursement import disburse
from core.loans.models import Loan, LoanInstallment
from core.schedule import LoanTerms

D = Decimal
ZERO = D(0)
_ids = itertools.count(1)
_customers: dict[int, int] = {}


def customer(session: Session) -> int:
    """The id of a customer in this database (created on first use)."""
    key = id(session.get_bind())
    found = session.scalar(select(Customer.id).limit(1))
    if found is None:
        person = Customer(name="李四", id_number="11010519491231002X", phone="13812345678")
        session.add(person)
        session.flush()
        found = person.id
    _customers[key] = found
    return found


def seed_calendar(session: Session, until: date = date(2028, 12, 31)) -> None:
    core.businessday.calendar.seed_calendar(session, date(2025, 1, 1), until)


def book(session: Session, *, principal: str = "12000.00", rate: str = "0.12", periods: int = 12,
         start: date = date(2026, 1, 15), method: str = "equal_installment", rules: ServicingRules | None = None,
         upfront_fee: str = "0", fee_per_period: str = "0", key: str | None = None,
         frequency: str = "monthly") -> Loan:
    """Disburse a loan through the sandbox bank."""
    terms = LoanTerms(D(principal), D(rate), periods, start, method=method, upfront_fee=D(upfront_fee),
                      fee_per_period=D(fee_per_period), frequency=frequency)
    return disburse(session, key=key or f"disb-{next(_ids)}", customer_id=customer(session), terms=terms,
                    channel="sandbox_bank", actor="tests", product_code="cash", product_version_id=1, rules=rules)


def close(session: Session, on: date) -> None:
    run_eod(session, on)


def installments(session: Session, loan_id: int) -> list[LoanInstallment]:
    session.expire_all()
    return list(session.scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan_id)
                                .order_by(LoanInstallment.period)))


def trial_balance_through(session: Session, day: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Debit and credit per account of the entries booked on or before ``day``."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    rows = session.execute(select(Posting.account, Posting.debit, Posting.credit).join(JournalEntry)
                           .where(JournalEntry.business_date <= day))
    for account, debit, credit in rows:
        totals[account][0] += debit
        totals[account][1] += credit
    return {account: (pair[0], pair[1]) for account, pair in totals.items()}


def check_books(session: Session) -> None:
    """Trial balance zero, journal == projection, nothing negative, installments agree with the ledger."""
    session.flush()
    assert trial_balance(session).difference == 0
    assert compare_projection(session) == []
    expected: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in session.scalars(select(LoanInstallment)):
        for name in ("principal", "interest", "fee", "penalty", "interest_accrued", "paid_principal",
                     "paid_interest", "paid_fee", "paid_penalty", "waived_penalty"):
            assert getattr(row, name) >= 0, (row.loan_id, row.period, name)
        assert row.paid_principal <= row.principal and row.paid_interest <= row.interest_accrued
        if row.status == "written_off":
            continue
        mine = expected[row.loan_id]
        mine["principal"] += row.principal - row.paid_principal
        mine["interest"] += row.interest_accrued - row.paid_interest
        mine["fee"] += (row.fee if row.status != "pending" else ZERO) - row.paid_fee
        mine["penalty"] += row.penalty - row.paid_penalty - row.waived_penalty
    for balance in session.scalars(select(LoanBalance)):
        for bucket in ("principal", "interest", "fee", "penalty", "suspense"):
            assert getattr(balance, bucket) >= 0, (balance.loan_id, bucket)
        loan = session.get(Loan, balance.loan_id)
        assert loan is not None
        if loan.state == "written_off":
            assert balance.principal == balance.interest == balance.fee == balance.penalty == 0
            continue
        mine = expected[balance.loan_id]
        got = {b: getattr(balance, b) for b in ("principal", "interest", "fee", "penalty")}
        assert got == {b: mine[b] for b in got}, (balance.loan_id, got, dict(mine))


METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")


def seed_portfolio(session: Session, count: int) -> list[int]:
    """``count`` loans of mixed methods, amounts and start dates (the same loans for the same count);
    every third one pays its first installment, so the others fall overdue."""
    from core.loans.repayment import repay

    ids = []
    for k in range(count):
        start = date(2026, 1, 1) + timedelta(days=k % 28)
        loan = book(session, principal=f"{1000 + 37 * k}.00", rate=("0.12", "0.18", "0.0435")[k % 3],
                    periods=12 if k % 4 != 3 else 90, start=start, method=METHODS[k % 4],
                    key=f"seed-{k}")
        ids.append(loan.id)
        if k % 3 == 0 and METHODS[k % 4] != "bullet":
            first = installments(session, loan.id)[0]
            repay(session, loan_id=loan.id, amount=first.principal + first.interest, on=first.due_date,
                  today=first.due_date, channel="sandbox_bank", key=f"seed-pay-{k}", actor="tests")
    session.flush()
    return ids


def books_picture(session: Session) -> list[tuple[object, ...]]:
    """Everything end-of-day changes, loan by loan, for comparing two databases."""
    session.expire_all()
    picture: list[tuple[object, ...]] = []
    for loan in session.scalars(select(Loan).order_by(Loan.id)):
        balance = session.get(LoanBalance, loan.id)
        rows = tuple((r.period, r.status, r.interest_accrued, r.penalty, r.paid_principal, r.paid_interest)
                     for r in installments(session, loan.id))
        picture.append((loan.id, loan.state, loan.days_past_due, loan.bucket, loan.five_tier,
                        tuple(getattr(balance, b) for b in ("principal", "interest", "fee", "penalty", "suspense")),
                        rows))
    return picture
