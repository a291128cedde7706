"""The due run's first step: one debit instruction per installment whose next attempt has come.

:func:`plan_instructions` works per product version that debits (a handful), set-based: one query finds every
unsettled installment of the version's live loans that is due by the furthest attempt, with the number of
attempts made so far and whether one is still open; the rule below picks the rows; one multi-row insert
writes them, ``ON CONFLICT DO NOTHING`` on ``(loan_id, period, attempt)``. Running it twice, or on two workers
at once, writes each attempt once.

The rule (the policy's :meth:`~core.debits.policy.DebitPolicy.attempt_time`): the next attempt of an
installment is number ``made + 1``; it is written when its local date and hour have come (``on``, ``hour``),
no earlier attempt is still open (an attempt follows a failed one, never runs beside it), and no attempt was
``stopped``. The amount is what the installment still owes (principal, interest, fee and penalty, less what
was paid or waived): as its row stands for one falling due, and for one in arrears as the repayment will find
it (:func:`core.loans.context.projected_rows`, ``on``'s penalty included; per loan, only for the few in
arrears). The repayment it brings is allocated by the ordinary waterfall. Without a live authorisation the
attempt is written ``skipped`` or ``stopped`` (the product's ``on_authorisation_missing``) with failure code
``NO_AUTHORISATION``, and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, select
from sqlalchemy.orm import Session

from core.db.bulk import insert_new
from core.debits.models import NO_AUTHORISATION, OPEN, DebitAuthorisation, DebitInstruction, request_id_of
from core.debits.policy import DebitPolicy
from core.loans.context import projected_rows
from core.loans.models import Loan, LoanInstallment
from core.products.models import ProductVersion

#: loans that are debited (a closed or written-off loan is not)
LIVE_LOANS = ("active", "overdue")
#: installments that may still owe something
UNSETTLED = ("pending", "due", "overdue")
ZERO = Decimal(0)
_INSTRUCTIONS = cast(Table, DebitInstruction.__table__)


@dataclass(frozen=True)
class PlanResult:
    """What one planning pass wrote: instructions to send, and attempts recorded without a debit."""

    created: int = 0
    skipped: int = 0

    def __add__(self, other: PlanResult) -> PlanResult:
        return PlanResult(self.created + other.created, self.skipped + other.skipped)


def debiting_versions(session: Session) -> dict[int, DebitPolicy]:
    """Every product version with live loans whose policy debits, and that policy."""
    ids = session.scalars(select(Loan.product_version_id).where(Loan.state.in_(LIVE_LOANS)).distinct()).all()
    versions = session.execute(select(ProductVersion.id, ProductVersion.document)
                               .where(ProductVersion.id.in_(ids))).all() if ids else []
    policies = {version_id: DebitPolicy.of(document) for version_id, document in versions}
    return {version_id: policy for version_id, policy in policies.items() if policy.enabled}


def owed(row: Any) -> Decimal:
    """What an installment row still owes (the amount an attempt asks for)."""
    return cast(Decimal, (row.principal - row.paid_principal) + (row.interest - row.paid_interest)
                + (row.fee - row.paid_fee) + (row.penalty - row.paid_penalty - row.waived_penalty))


def _candidates(session: Session, version_id: int, latest_due: date) -> Sequence[Any]:
    made = (select(func.count()).where(DebitInstruction.loan_id == LoanInstallment.loan_id,
                                       DebitInstruction.period == LoanInstallment.period)
            .correlate(LoanInstallment).scalar_subquery())
    same = and_(DebitInstruction.loan_id == LoanInstallment.loan_id, DebitInstruction.period == LoanInstallment.period)
    blocked = exists().where(same, DebitInstruction.state.in_((*OPEN, "stopped")))
    return session.execute(
        select(LoanInstallment.loan_id, LoanInstallment.period, LoanInstallment.due_date,
               LoanInstallment.principal, LoanInstallment.paid_principal, LoanInstallment.interest,
               LoanInstallment.paid_interest, LoanInstallment.fee, LoanInstallment.paid_fee, LoanInstallment.penalty,
               LoanInstallment.paid_penalty, LoanInstallment.waived_penalty, Loan.payment_channel,
               DebitAuthorisation.id.label("authorisation_id"), made.label("made"))
        .join(Loan, Loan.id == LoanInstallment.loan_id)
        .outerjoin(DebitAuthorisation, and_(DebitAuthorisation.application_id == Loan.application_id,
                                            DebitAuthorisation.revoked_at.is_(None)))
        .where(Loan.product_version_id == version_id, Loan.state.in_(LIVE_LOANS),
               Loan.payment_channel.is_not(None), LoanInstallment.status.in_(UNSETTLED),
               LoanInstallment.due_date <= latest_due, ~blocked)).all()


def _furthest_due(policy: DebitPolicy, on: date, hour: int) -> date | None:
    """The latest due date any attempt of ``policy`` may have come for by ``on`` at ``hour``."""
    bounds = [b[1] for n in range(1, policy.max_attempts + 1) if (b := policy.due_dates_for(n, on, hour))]
    return max(bounds) if bounds else None


def plan_version(session: Session, version_id: int, policy: DebitPolicy, on: date, hour: int,
                 now: datetime | None = None) -> PlanResult:
    """Write the instructions of one product version whose time has come by ``on`` at local ``hour``."""
    latest = _furthest_due(policy, on, hour)
    if latest is None:
        return PlanResult()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rows, skipped = [], 0
    late: dict[int, dict[int, Decimal]] = {}
    for row in _candidates(session, version_id, latest):
        number = int(row.made) + 1
        when = policy.attempt_time(number, row.due_date)
        if when is None or when > (on, hour):
            continue
        amount = owed(row) if row.due_date >= on else _owed_on(session, late, row.loan_id, on).get(row.period, ZERO)
        if amount <= ZERO:
            continue
        state = "created"
        failure = ""
        if row.authorisation_id is None:
            state, failure = ("stopped" if policy.on_authorisation_missing == "stop" else "skipped"), NO_AUTHORISATION
            skipped += 1
        rows.append({"loan_id": row.loan_id, "period": row.period, "attempt": number,
                     "request_id": request_id_of(row.loan_id, row.period, number), "plugin": row.payment_channel,
                     "product_version_id": version_id, "scheduled_on": on, "amount": amount, "collected": ZERO,
                     "state": state, "failure_code": failure,
                     "failure_message": "借款人无有效代扣授权" if failure else "", "channel_reference": "",
                     "created_at": now, "answered_at": now if failure else None})
    written = insert_new(session, _INSTRUCTIONS, rows, ("loan_id", "period", "attempt"))
    return PlanResult(created=written - min(skipped, written), skipped=min(skipped, written))


def _owed_on(session: Session, cache: dict[int, dict[int, Decimal]], loan_id: int, on: date) -> dict[int, Decimal]:
    """What each installment of a loan in arrears owes on ``on`` with that day's penalty included (the
    repayment closes ``on`` for the loan before allocating: asking less would leave a day's penalty open)."""
    if loan_id not in cache:
        cache[loan_id] = {row.period: row.due().total for row in projected_rows(session, loan_id, on)}
    return cache[loan_id]


def plan_instructions(session: Session, on: date, hour: int, now: datetime | None = None) -> PlanResult:
    """Write every instruction whose time has come by local ``on`` at ``hour``, for every debiting product.

    Args:
        on: the business date (Asia/Shanghai).
        hour: the local hour of the run (0-23); an attempt planned for a later hour of ``on`` waits.
    """
    total = PlanResult()
    for version_id, policy in sorted(debiting_versions(session).items()):
        total = total + plan_version(session, version_id, policy, on, hour, now)
    return total
