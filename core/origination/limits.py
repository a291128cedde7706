"""Per-customer credit limits (授信限额): what counts, when it is checked, and one customer at a time.

A product's ``credit_limits`` bound what one customer may hold with the lender, the new loan included:
``max_concurrent_loans`` live loans and ``max_outstanding_per_customer`` of principal outstanding. What
counts (:func:`exposure`) is every live loan (``active``, ``overdue``) with its principal still
outstanding, and every application on its way to becoming one, with its amount: under review, returned
for more information, approved (accepted or not, while its offer has not lapsed), contract signed,
disbursing, or a failed payout that may be retried. Five applications in a row, or twenty at once, do
not each see an empty slate.

The limits are checked twice: when the application is decided (:mod:`core.origination.pipeline`, reasons
``TOO_MANY_LOANS`` and ``CREDIT_LIMIT_EXCEEDED``) and just before the money leaves
(:func:`check_before_payout`, called by :func:`core.origination.booking.start_disbursement`), since another
product's applications, under limits of their own, may have been approved in between.

Counting and deciding must not interleave for one customer. On PostgreSQL the customer's row is taken
``FOR UPDATE`` before counting (:func:`lock_customer`; the pipeline reads the customer that way), and held
to the end of the transaction, so a second request of the same customer waits for the first to commit and
then counts it; a first application of a new ID number inserts the customer row, and the others wait on
its unique index. SQLite runs one writer at a time, and both callers have written before they count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.customers.parties import Customer
from core.loans.models import Loan, LoanInstallment
from core.origination.errors import CreditLimitError

LIVE_LOAN_STATES = ("active", "overdue")
#: applications on their way to a loan
PIPELINE_STATES = ("under_review", "returned", "approved", "accepted", "contract_signed", "disbursing",
                   "disbursement_failed")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Exposure:
    """What a customer holds and has on the way: live loans and applications, and their principal."""

    loans: int
    outstanding: Decimal


def lock_customer(session: Session, customer_id: int) -> None:
    """Hold the customer's row for the rest of the transaction (``FOR UPDATE``; nothing on SQLite)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def _lapsed(state: str, expires: str | None, now: datetime) -> bool:
    """An approved offer past its deadline (an accepted one is in the ``accepted`` state and no longer lapses)."""
    return state == "approved" and bool(expires) and datetime.fromisoformat(str(expires)) < now


def exposure(session: Session, customer_id: int, *, now: datetime, excluding: int | None = None) -> Exposure:
    """The customer's live loans and applications on the way (but ``excluding``), and their principal."""
    loans = session.execute(select(LoanInstallment.loan_id, LoanInstallment.principal, LoanInstallment.paid_principal)
                            .join(Loan, Loan.id == LoanInstallment.loan_id)
                            .where(Loan.customer_id == customer_id, Loan.state.in_(LIVE_LOAN_STATES))).all()
    outstanding = sum((principal - paid for _, principal, paid in loans), ZERO)
    count = len({loan_id for loan_id, _, _ in loans})
    query = select(Application.state, Application.amount, Application.offer["expires_at"].as_string()).where(
        Application.customer_id == customer_id, Application.state.in_(PIPELINE_STATES))
    if excluding is not None:
        query = query.where(Application.id != excluding)
    for state, amount, expires in session.execute(query):
        if not _lapsed(state, expires, now):
            count += 1
            outstanding += amount
    return Exposure(count, outstanding)


def limit_reasons(limits: tuple[Decimal, int], held: Exposure, amount: Decimal) -> list[str]:
    """The reason codes of the limits ``(max outstanding, max live loans)`` a new ``amount`` would break."""
    max_outstanding, max_loans = limits
    reasons = []
    if held.loans + 1 > max_loans:
        reasons.append("TOO_MANY_LOANS")
    if held.outstanding + amount > max_outstanding:
        reasons.append("CREDIT_LIMIT_EXCEEDED")
    return reasons


def check_before_payout(session: Session, application: Application, limits: tuple[Decimal, int],
                        now: datetime) -> None:
    """Refuse to pay ``application`` out if the customer's loans and other applications leave no room.

    Raises:
        CreditLimitError: the limits ``(max outstanding, max live loans)`` would be broken (field ``amount``).
    """
    lock_customer(session, application.customer_id)
    held = exposure(session, application.customer_id, now=now, excluding=application.id)
    reasons = limit_reasons(limits, held, application.amount)
    if reasons:
        raise CreditLimitError(
            f"amount: paying out {application.amount:.2f} would break the product's credit limits "
            f"({', '.join(reasons)}): the customer holds or has on the way {held.loans} loan(s) of "
            f"{held.outstanding:.2f} principal, the limits are {limits[1]} and {limits[0]:.2f}",
            field="amount", value=application.amount)
