"""Staff's hand on the debits: a manual retry of an installment, and the day's success rates.

:func:`retry_now` writes the installment's next attempt at once, outside the product's plan (its number
follows the attempts made; the cap is the plan's, a person may go past it), for the next due run to send.
It is refused while an attempt of the installment is open, when the installment is settled, and without a
live authorisation. :func:`success_rates` is what the cockpit and the debits screen show: of the attempts
answered on the days asked, the share that collected (代扣成功率), and the share of first attempts that did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.debits.authorisations import of_loan, require_live
from core.debits.models import OPEN, DebitInstruction, request_id_of
from core.debits.planning import UNSETTLED, owed
from core.errors import WrongStateError
from core.loans.models import Loan, LoanInstallment
from core.rounding import FEN


def retry_now(session: Session, *, loan_id: int, period: int, on: date, actor: str,
              now: datetime | None = None) -> DebitInstruction:
    """A new attempt of installment ``period`` of the loan, to be sent by the next due run.

    Raises:
        WrongStateError: no such loan or installment (field ``period``), it is settled, an attempt of it is
            still open, or the loan has no live authorisation (field ``authorisation``).
    """
    loan = session.get(Loan, loan_id, with_for_update=True)
    row = session.scalar(select(LoanInstallment).where(LoanInstallment.loan_id == loan_id,
                                                       LoanInstallment.period == period)) if loan else None
    if loan is None or row is None or row.status not in UNSETTLED:
        raise WrongStateError(f"period: loan {loan_id} has no unsettled installment {period}", field="period",
                              value=period)
    require_live(of_loan(session, loan), loan_id)
    made = session.scalars(select(DebitInstruction).where(DebitInstruction.loan_id == loan_id,
                                                          DebitInstruction.period == period)).all()
    if any(m.state in OPEN for m in made):
        raise WrongStateError(f"period: an attempt of installment {period} is still waiting for the bank",
                              field="period", value=period)
    attempt = len(made) + 1
    instruction = DebitInstruction(
        loan_id=loan_id, period=period, attempt=attempt, request_id=request_id_of(loan_id, period, attempt),
        plugin=loan.payment_channel or "", product_version_id=loan.product_version_id, scheduled_on=on,
        amount=owed(row), collected=Decimal(0), state="created", failure_code="", failure_message="",
        channel_reference="", created_at=(now or datetime.now(UTC)).astimezone(UTC))
    session.add(instruction)
    session.flush()
    return instruction


@dataclass(frozen=True)
class SuccessRates:
    """Answered attempts and how many collected; the same for first attempts."""

    answered: int
    collected: int
    first_answered: int
    first_collected: int

    @staticmethod
    def _share(part: int, whole: int) -> Decimal | None:
        return (Decimal(part) / Decimal(whole)).quantize(FEN * FEN) if whole else None

    @property
    def rate(self) -> Decimal | None:
        """代扣成功率: collected (in full or in part) / answered; ``None`` when nothing was answered."""
        return self._share(self.collected, self.answered)

    @property
    def first_rate(self) -> Decimal | None:
        """The share of first attempts that collected."""
        return self._share(self.first_collected, self.first_answered)


def success_rates(session: Session, first_day: date, last_day: date) -> SuccessRates:
    """The rates of the attempts made from ``first_day`` to ``last_day`` (inclusive) that were answered."""
    rows = session.execute(select(DebitInstruction.attempt == 1, DebitInstruction.state, func.count())
                           .where(DebitInstruction.scheduled_on >= first_day,
                                  DebitInstruction.scheduled_on <= last_day,
                                  DebitInstruction.state.in_(("succeeded", "partial", "failed")))
                           .group_by(DebitInstruction.attempt == 1, DebitInstruction.state)).all()
    answered = collected = first_answered = first_collected = 0
    for first, state, count in rows:
        answered += count
        collected += count if state != "failed" else 0
        if first:
            first_answered += count
            first_collected += count if state != "failed" else 0
    return SuccessRates(answered, collected, first_answered, first_collected)
