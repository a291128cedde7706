"""Disbursement: the loan is booked, its schedule written and the money paid out, in one transaction.

The principal receivable is exactly the amount paid out to the borrower (民法典 Art. 670: interest may
not be deducted from the principal in advance, 砍头息). An upfront fee is never netted off the payout:
it becomes a fee receivable (and fee income) at once, owed as an installment "period 0" (no principal,
no interest, the fee) due on the disbursement date itself: the borrower pays it at disbursement, separately
from the payout, which is the cash flow the APR and its proof discount at time 0
(:func:`core.schedule.apr.schedule_cash_flows`) and the contract prints (放款当日支付). Unpaid, it is overdue
from the next day and collected like any other debt.

Entry (event ``disbursement``): Dr 1303 principal receivable P / Cr 1002.<channel> cash clearing P, and
with an upfront fee F: Dr 1133 fee receivable F / Cr 6021 fee income F.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidArgumentError
from core.ledger.accounts import FEE_INCOME, FEE_RECEIVABLE, PRINCIPAL_RECEIVABLE, cash_clearing
from core.ledger.posting import Line
from core.loans.context import check_open_date, open_event, post_lines
from core.loans.contract import Contract, ServicingRules
from core.loans.events import ServicingEvent
from core.loans.models import Loan, LoanInstallment
from core.schedule import LoanTerms, build_schedule
from core.states import LOAN_STATES


def disburse(session: Session, *, key: str, customer_id: int, terms: LoanTerms, channel: str, actor: str,
             product_code: str, product_version_id: int, rules: ServicingRules | None = None,
             application_id: int | None = None, on: date | None = None) -> Loan:
    """Book and pay out a loan; a repeated ``key`` returns the loan booked the first time.

    Args:
        key: the idempotency key of the disbursement request.
        terms: the schedule terms; ``terms.principal`` is paid out in full.
        channel: the payment channel code (its cash clearing account is credited).
        on: the business date, default ``terms.start_date`` (the schedule starts on it).
        rules: penalty, allocation and prepayment rules kept in the contract snapshot.

    Raises:
        InvalidArgumentError: ``on`` differs from ``terms.start_date`` (field ``on``), bad channel.
        ServicingDateError: ``on`` is a closed business date.
    """
    existing = session.scalar(select(ServicingEvent).where(ServicingEvent.request_key == key))
    if existing is not None and existing.kind == "disbursement":
        loan = session.get(Loan, existing.loan_id)
        assert loan is not None
        return loan
    on = on or terms.start_date
    if on != terms.start_date:
        terms = replace(terms, start_date=on)
    check_open_date(session, on)
    clearing = cash_clearing(channel)
    schedule = build_schedule(terms)
    if not schedule.installments:
        raise InvalidArgumentError("terms: the schedule has no installments", field="terms")
    loan = Loan(application_id=application_id, customer_id=customer_id, product_code=product_code,
                product_version_id=product_version_id, contract=Contract(terms, rules or ServicingRules()),
                payment_channel=channel, disbursed_on=on, maturity_date=schedule.maturity_date, days_past_due=0,
                bucket="M0", five_tier="normal")
    LOAN_STATES.start(session, loan, actor=actor, reason=f"disbursed on {on.isoformat()}")
    session.add_all(LoanInstallment(loan_id=loan.id, period=row.period, start=row.start, due_date=row.due_date,
                                    principal=row.principal, interest=row.interest, fee=row.fee)
                    for row in schedule.installments)
    if terms.upfront_fee:
        session.add(LoanInstallment(loan_id=loan.id, period=0, start=on, due_date=on,
                                    principal=Decimal(0), interest=Decimal(0), fee=terms.upfront_fee, status="due"))
    session.flush()
    event, _ = open_event(session, loan=loan, kind="disbursement", key=key, on=on, actor=actor,
                          amount=terms.principal, channel=channel)
    lines = [Line.dr(PRINCIPAL_RECEIVABLE, terms.principal), Line.cr(clearing, terms.principal)]
    if terms.upfront_fee:
        lines += [Line.dr(FEE_RECEIVABLE, terms.upfront_fee), Line.cr(FEE_INCOME, terms.upfront_fee)]
    post_lines(session, event, "disbursement", "disbursement", on, lines)
    event.result = {"principal": str(terms.principal), "upfront_fee": str(terms.upfront_fee)}
    return loan
