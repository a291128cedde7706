"""What a credit line tells the credit bureau: the line as an R1 account, each drawdown's loan as an R4 one.

PBoC second-generation reporting (DOMAIN.md) reports a revolving line as account type R1 (its limit as the
credit amount, what is drawn as the balance) and the loans drawn under it as R4 sub-accounts (the principal
as the credit amount, the principal outstanding as the balance). :func:`line_account_events` builds the
record-210 events of a line and its drawdowns' loans for one report date: ``open`` on the day the line was
granted or the loan booked, ``close`` once the line is closed or the loan paid off or prepaid (with no
balance), ``monthly`` otherwise. The repayment-grid symbol of a loan is ``N`` when it is current and the
30-day band of its days past due (``1``..``7``) when it is not; the line takes its worst loan's.
:func:`report_line` hands the events to the product's bureau plugin (``bureau_report_account``), which
acknowledges a repeated (account, kind, date) with the same reference. Non-revolving lines are not R1
accounts and are refused.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.credit_lines.limits import used_by_line
from core.credit_lines.models import CreditLine, Drawdown
from core.customers.parties import Customer
from core.errors import InvalidArgumentError
from core.loans.delinquency import tier_code
from core.loans.models import FiveTier, Loan, LoanInstallment
from core.origination.published import offer_of_version
from core.plugins.manager import PluginManager
from core.plugins.types import BureauAccountEvent, BureauAck

CLOSED_LOANS = ("paid_off", "prepaid_closed")
ZERO = Decimal(0)


def grid_symbol(days_past_due: int) -> str:
    """``N`` when current, else the 30-day band of ``days_past_due`` (``1`` for 1–30 ... ``7`` over 180)."""
    return "N" if days_past_due <= 0 else str(min((days_past_due - 1) // 30 + 1, 7))


def _kind(opened_on: date, closed: bool, report_date: date) -> str:
    return "close" if closed else ("open" if opened_on == report_date else "monthly")


def _loan_event(loan: Loan, rows: list[LoanInstallment], customer: Customer, report_date: date) -> BureauAccountEvent:
    outstanding = sum((r.principal - r.paid_principal for r in rows), ZERO)
    overdue = [r for r in rows if r.status == "overdue"]
    closed = loan.state in CLOSED_LOANS
    return BureauAccountEvent(
        kind=_kind(loan.disbursed_on, closed, report_date),  # type: ignore[arg-type]
        account_id=f"LOAN-{loan.id}", id_number=customer.id_number, name=customer.name, report_date=report_date,
        account_type="R4", credit_amount=loan.principal, balance=ZERO if closed else outstanding,
        overdue_periods=len(overdue),
        overdue_amount=sum((r.principal + r.interest + r.fee - r.paid_principal - r.paid_interest - r.paid_fee
                            for r in overdue), ZERO),
        remaining_periods=sum(1 for r in rows if r.status not in ("paid", "written_off")),
        status_symbol="C" if closed else grid_symbol(loan.days_past_due),
        five_tier=tier_code(FiveTier(loan.five_tier)))


def line_account_events(session: Session, line_id: int, report_date: date) -> list[BureauAccountEvent]:
    """The R1 event of the line and the R4 events of its drawdowns' booked loans on ``report_date``.

    Raises:
        InvalidArgumentError: no such line, or the line is not revolving (field ``line_id``).
    """
    line = session.get(CreditLine, line_id)
    if line is None or not line.revolving:
        raise InvalidArgumentError(f"line_id: {line_id} is not a revolving line (R1)", field="line_id",
                                   value=line_id)
    customer = session.get(Customer, line.customer_id)
    assert customer is not None
    loans = list(session.scalars(select(Loan).join(Drawdown, Drawdown.application_id == Loan.application_id)
                                 .where(Drawdown.line_id == line_id).order_by(Loan.id)))
    rows: dict[int, list[LoanInstallment]] = {loan.id: [] for loan in loans}
    for row in session.scalars(select(LoanInstallment).where(LoanInstallment.loan_id.in_(list(rows)))
                               .order_by(LoanInstallment.loan_id, LoanInstallment.period)):
        rows[row.loan_id].append(row)
    sub_accounts = [_loan_event(loan, rows[loan.id], customer, report_date) for loan in loans]
    live = [event for event in sub_accounts if event.kind != "close"]
    closed = line.state == "closed"
    drawn = ZERO if closed else used_by_line(session, [line.id])[line.id]
    worst = max(live, default=None, key=lambda e: (e.status_symbol != "N", e.status_symbol))
    line_event = BureauAccountEvent(
        kind=_kind(line.granted_on, closed, report_date),  # type: ignore[arg-type]
        account_id=f"LINE-{line.id}", id_number=customer.id_number, name=customer.name, report_date=report_date,
        account_type="R1", credit_amount=line.limit, balance=drawn,
        overdue_periods=max((e.overdue_periods for e in live), default=0),
        overdue_amount=sum((e.overdue_amount for e in live), ZERO),
        status_symbol="C" if closed else (worst.status_symbol if worst else "N"),
        five_tier=max((e.five_tier for e in live), default=1))
    return [line_event, *sub_accounts]


def report_line(session: Session, plugins: PluginManager, line_id: int, report_date: date) -> list[BureauAck]:
    """Send the line's events of ``report_date`` to its product's bureau plugin; the acknowledgements in order.

    Raises:
        InvalidArgumentError: as :func:`line_account_events`. PluginFailure: the plugin failed (send again).
    """
    events = line_account_events(session, line_id, report_date)
    line = session.get(CreditLine, line_id)
    assert line is not None
    bureau = offer_of_version(session, line.product_version_id).plugins["credit_bureau"]
    return [plugins.call(bureau, "bureau_report_account", session=session, subject=f"credit_line:{line_id}",
                         event=event) for event in events]
