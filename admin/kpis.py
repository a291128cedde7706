"""The cockpit's figures, read straight from the books (read-only queries, no rule lives here).

Definitions, so a risk manager can check them:

- applications: every application past draft; decided: those with a decision time.
- approval rate: decided applications approved (approved or any later step up to disbursed) / decided.
- share decided automatically: decided applications that never had a manual approval task / decided.
- average time to decision: mean of decided_at − created_at over decided applications, in minutes.
- disbursed: loans booked, count and principal.
- outstanding: contractual principal not yet paid on loans that are not closed or written off.
- coincident delinquency rate: outstanding principal of loans with days past due > 0 / outstanding
  principal of the same date (both measured now, hence "coincident").
- M1 / M2 / M3+: outstanding principal by the loan's bucket (M3+ gathers M3 and later).
- five-tier balances: outstanding principal by 五级分类.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.loans.models import FiveTier, Loan, LoanInstallment
from core.origination.approval import ApprovalTask

APPROVED_STATES = ("approved", "contract_signed", "disbursing", "disbursed", "disbursement_failed")
CLOSED_LOAN_STATES = ("paid_off", "prepaid_closed", "written_off")
BUCKET_GROUPS = ("M0", "M1", "M2", "M3+")


@dataclass
class Kpis:
    applications: int = 0
    decided: int = 0
    approved: int = 0
    automatic: int = 0
    average_minutes_to_decision: Decimal | None = None
    disbursed_count: int = 0
    disbursed_amount: Decimal = Decimal(0)
    outstanding: Decimal = Decimal(0)
    delinquent_outstanding: Decimal = Decimal(0)
    buckets: dict[str, Decimal] = field(default_factory=dict)
    five_tier: dict[str, Decimal] = field(default_factory=dict)

    @property
    def approval_rate(self) -> Decimal | None:
        return _ratio(self.approved, self.decided)

    @property
    def automatic_share(self) -> Decimal | None:
        return _ratio(self.automatic, self.decided)

    @property
    def delinquency_rate(self) -> Decimal | None:
        return _ratio(self.delinquent_outstanding, self.outstanding)

    def chart_data(self) -> dict[str, Any]:
        """The two charts' series in display order, as ``[label, exact amount text]`` pairs."""
        return {"buckets": [[k, format(v, "f")] for k, v in self.buckets.items()],
                "five_tier": [[k, format(v, "f")] for k, v in self.five_tier.items()]}


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def _bucket_group(bucket: str) -> str:
    if bucket in ("M0", "M1", "M2"):
        return bucket
    return "M3+"


def compute(session: Session) -> Kpis:
    """Every cockpit figure, as of now.

    Sums are taken in Python over ``Decimal`` values: SQLite keeps amounts as text and would sum them as
    floats. Only installments with principal still owed are read.
    """
    kpis = Kpis()
    kpis.applications = session.scalar(select(func.count(Application.id)).where(Application.state != "draft")) or 0
    decided = list(session.execute(select(Application.id, Application.state, Application.created_at,
                                          Application.decided_at).where(Application.decided_at.is_not(None))))
    kpis.decided = len(decided)
    kpis.approved = sum(1 for row in decided if row.state in APPROVED_STATES)
    manual = set(session.scalars(select(ApprovalTask.application_id).distinct()))
    kpis.automatic = sum(1 for row in decided if row.id not in manual)
    if decided:
        seconds = sum((_aware(row.decided_at) - _aware(row.created_at)).total_seconds() for row in decided)
        kpis.average_minutes_to_decision = (Decimal(str(seconds)) / 60 / len(decided)).quantize(Decimal("0.1"))
    principals = list(session.scalars(select(Loan.principal)))
    kpis.disbursed_count = len(principals)
    kpis.disbursed_amount = sum(principals, Decimal(0))
    kpis.buckets = dict.fromkeys(BUCKET_GROUPS, Decimal(0))
    kpis.five_tier = {tier.value: Decimal(0) for tier in FiveTier}
    rows = session.execute(
        select(Loan.days_past_due, Loan.bucket, Loan.five_tier, LoanInstallment.principal,
               LoanInstallment.paid_principal)
        .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
        .where(Loan.state.not_in(CLOSED_LOAN_STATES), LoanInstallment.status != "paid"))
    for row in rows:
        owed = row.principal - row.paid_principal
        kpis.outstanding += owed
        if row.days_past_due > 0:
            kpis.delinquent_outstanding += owed
        kpis.buckets[_bucket_group(row.bucket)] += owed
        kpis.five_tier[row.five_tier] = kpis.five_tier.get(row.five_tier, Decimal(0)) + owed
    return kpis


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
