"""Builders of the rows the books tests post against."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from core.customers.parties import Customer
from core.loans.contract import Contract
from core.loans.models import Loan
from core.schedule import LoanTerms
from core.states import LOAN_STATES

#: a valid resident ID number (GB 11643 check digit X) used across the tests
ID_NUMBER = "11010519491231002X"


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
