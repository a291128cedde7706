"""A customer's profile (用户画像), computed from the book: never stored, so it is never stale.

:func:`customer_profile` gathers, for an individual or an enterprise (:class:`~core.customers.parties.PartyRef`)
on a day:

* exposure: principal outstanding on live loans (``active``, ``overdue``), and how many loans are live or
  closed;
* the products held (codes of the live loans);
* applications made, with the score trend (each scored application's date and score, oldest first);
* repayment behaviour over the installments due before that day (or due on it and paid): paid on or before
  the due date, paid late, still unpaid past due (a payment after the day does not count); and the
  days-past-due history, one line per installment that was (or is) late with how many days.

An individual's book is their own loans and applications; an enterprise's, those whose application names
it (the legal representative's personal borrowing stays on their own profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.customers.parties import ENTERPRISE, PartyRef
from core.loans.models import Loan, LoanInstallment

LIVE_STATES = ("active", "overdue")


@dataclass(frozen=True)
class LateInstallment:
    """One installment paid after its due date, or unpaid past it on the profile's day."""

    loan_id: int
    period: int
    due_date: date
    days_late: int
    paid_on: date | None


@dataclass(frozen=True)
class CustomerProfile:
    """What the book says about a customer on ``as_of``."""

    subject: PartyRef
    as_of: date
    exposure: Decimal
    live_loans: int
    closed_loans: int
    products_held: tuple[str, ...]
    applications: int
    score_trend: tuple[tuple[date, int], ...]
    installments_due: int
    paid_on_time: int
    paid_late: int
    unpaid_past_due: int
    dpd_history: tuple[LateInstallment, ...]

    @property
    def max_days_past_due(self) -> int:
        """The most days any installment was (or is) late; 0 when none ever was."""
        return max((line.days_late for line in self.dpd_history), default=0)

    @property
    def on_time_ratio(self) -> Decimal | None:
        """Installments paid on time over installments due, or ``None`` before the first is due."""
        if not self.installments_due:
            return None
        return Decimal(self.paid_on_time) / Decimal(self.installments_due)


def applications_of(subject: PartyRef) -> Select[tuple[Application]]:
    """The query of the subject's applications (an individual's own, not those for an enterprise)."""
    if subject.kind == ENTERPRISE:
        return select(Application).where(Application.enterprise_id == subject.id)
    return select(Application).where(Application.customer_id == subject.id, Application.enterprise_id.is_(None))


def loans_of(session: Session, subject: PartyRef) -> list[Loan]:
    """The subject's loans, oldest first: an individual's own, an enterprise's through its applications."""
    ids = applications_of(subject).with_only_columns(Application.id)
    if subject.kind == ENTERPRISE:
        query = select(Loan).where(Loan.application_id.in_(ids))
    else:
        query = select(Loan).where(Loan.customer_id == subject.id,
                                   (Loan.application_id.is_(None)) | Loan.application_id.in_(ids))
    return list(session.scalars(query.order_by(Loan.id)))


def customer_profile(session: Session, subject: PartyRef, as_of: date) -> CustomerProfile:
    """The profile of ``subject`` on ``as_of`` (see the module's description)."""
    loans = loans_of(session, subject)
    live = [loan for loan in loans if loan.state in LIVE_STATES]
    installments = list(session.scalars(select(LoanInstallment).where(
        LoanInstallment.loan_id.in_([loan.id for loan in loans]), LoanInstallment.due_date <= as_of)
        .order_by(LoanInstallment.loan_id, LoanInstallment.period))) if loans else []
    exposure = sum((i.principal - i.paid_principal for i in session.scalars(select(LoanInstallment).where(
        LoanInstallment.loan_id.in_([loan.id for loan in live])))), Decimal(0)) if live else Decimal(0)
    on_time = late = unpaid = 0
    history = []
    due = []
    for item in installments:
        paid_on = item.paid_on if item.paid_on is not None and item.paid_on <= as_of else None
        if paid_on is None and item.due_date == as_of:
            continue  # due today and not paid yet: not late, not counted
        due.append(item)
        if paid_on is not None and paid_on <= item.due_date:
            on_time += 1
            continue
        if paid_on is not None:
            late += 1
        else:
            unpaid += 1
        history.append(LateInstallment(item.loan_id, item.period, item.due_date,
                                       ((paid_on or as_of) - item.due_date).days, paid_on))
    applications = list(session.scalars(applications_of(subject).order_by(Application.created_at, Application.id)))
    trend = tuple((a.created_at.date(), a.score) for a in applications if a.score is not None)
    return CustomerProfile(
        subject=subject, as_of=as_of, exposure=exposure, live_loans=len(live),
        closed_loans=len(loans) - len(live), products_held=tuple(sorted({loan.product_code for loan in live})),
        applications=len(applications), score_trend=trend, installments_due=len(due),
        paid_on_time=on_time, paid_late=late, unpaid_past_due=unpaid, dpd_history=tuple(history))
