"""Builders of the rows the books tests post against."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.customers.parties import Customer
from core.ledger import Line, LoanBalance, NewEntry, Posting, cash_clearing, post, post_many
from core.ledger import accounts as acc
from core.loans.contract import Contract
from core.loans.models import Loan
from core.schedule import LoanTerms
from core.states import LOAN_STATES

#: a valid resident ID number (GB 11643 check digit X) used across the tests
ID_NUMBER = "11010519491231002X"
DISBURSED_ON = date(2026, 1, 15)


def add_customer(session: Session, id_number: str = ID_NUMBER, phone: str = "13812345678") -> Customer:
    customer = Customer(name="张三", id_number=id_number, phone=phone, monthly_income=Decimal("8000"))
    session.add(customer)
    session.flush()
    return customer


def add_loan(session: Session, customer: Customer, principal: str = "12000.00") -> Loan:
    loan = Loan(customer_id=customer.id, product_code="cash_12m", product_version_id=1,
                contract=Contract(LoanTerms(Decimal(principal), Decimal("0.0435"), 12, date(2026, 1, 15))),
                payment_channel="sandbox_bank", disbursed_on=date(2026, 1, 15), maturity_date=date(2027, 1, 15))
    LOAN_STATES.start(session, loan, actor="tests", reason="booked")
    return loan


def disburse_with_fee(session: Session, loan_id: int) -> None:
    """12,000.00 lent, 100.00 fee kept back: three postings (the day-one loan)."""
    post(session, key=f"disbursement:{loan_id}", event="disbursement", business_date=DISBURSED_ON, loan_id=loan_id,
         lines=[Line.dr(acc.PRINCIPAL_RECEIVABLE, "12000.00"), Line.cr(cash_clearing("sandbox_bank"), "11900.00"),
                Line.cr(acc.FEE_INCOME, "100.00")])


def accrue_days(session: Session, loan_id: int, days: int) -> None:
    """``days`` daily accruals of 1.4500 (two postings each), posted as one batch."""
    post_many(session, [NewEntry(f"accrual:{loan_id}:{n}", "accrual", DISBURSED_ON + timedelta(days=n),
                                 (Line.dr(acc.INTEREST_RECEIVABLE, "1.4500"), Line.cr(acc.INTEREST_INCOME, "1.4500")),
                                 loan_id) for n in range(1, days + 1)])


def postings_of(session: Session, loan_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Posting).where(Posting.loan_id == loan_id)) or 0)


def three_loans(session: Session) -> list[int]:
    """Three loans of 12,000.00 disbursed (fee 100.00 kept back), the third with 3 days of interest; committed."""
    customer = add_customer(session)
    loans = [add_loan(session, customer).id for _ in range(3)]
    for loan_id in loans:
        disburse_with_fee(session, loan_id)
    accrue_days(session, loans[2], 3)
    session.commit()
    return loans


def tamper_projection(session: Session, loan_id: int, **values: Decimal) -> None:
    """Write the loan's projection row behind the ledger's back (what the compare must catch); committed."""
    session.execute(update(LoanBalance).where(LoanBalance.loan_id == loan_id).values(**values))
    session.commit()
