"""A channel's answer to a debit instruction, applied once: the repayment it brings, or the failure.

Answers come three ways (the batch hook's immediate result, the signed callback, ``payment_query`` after
the timeout) and may come twice or late; :func:`apply_result` changes an instruction only while it is
open, so the first final answer counts and every later one changes nothing. A success posts through the
ordinary repayment (:func:`core.loans.repayment.repay`: the allocation waterfall, the ledger, the loan's
state and its transitions) under the instruction's request id as the servicing key, so the bank's
reconciliation file matches it line by line (:mod:`plugins.sandbox_bank.reconcile` reads the key back). A
failure is recorded with the channel's code; the next attempt is the planner's business
(:mod:`core.debits.planning`). The final move is a ``debit`` state transition, which the webhooks carry as
``debit.succeeded``, ``debit.partial`` or ``debit.failed``.

A success that leaves money in the overpayment suspense (the borrower paid the installment some other way
meanwhile) files its refund for a person to decide when the product's ``debit.overpayment`` is ``refund``
(:func:`core.debits.refunds.file_for_excess`).

An answer that claims more than was asked is not booked: the instruction keeps waiting, flagged
``AMOUNT_MISMATCH`` and audited, for the reconciliation to settle (as a payout callback that disagrees
with its order is, :mod:`core.origination.settlement`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice import audit
from core.debits.authorisations import of_loan
from core.debits.models import OPEN, DebitInstruction
from core.debits.policy import DebitPolicy
from core.debits.refunds import file_for_excess
from core.loans.models import Loan
from core.loans.repayment import OVERPAYMENT_MULTIPLE, repay
from core.messages.planning import debit_answered
from core.plugins.types import PaymentResult
from core.products.models import ProductVersion
from core.states import DEBIT_STATES


def instruction_for(session: Session, request_id: str, *, lock: bool = True) -> DebitInstruction | None:
    """The instruction of ``request_id`` (locked for the caller's update), or ``None`` when it is not a debit."""
    query = select(DebitInstruction).where(DebitInstruction.request_id == request_id)
    return session.scalar(query.with_for_update() if lock else query)


def apply_result(session: Session, instruction: DebitInstruction, result: PaymentResult, *, today: date,
                 actor: str, overpayment_multiple: Decimal = OVERPAYMENT_MULTIPLE,
                 now: datetime | None = None) -> bool:
    """Apply the channel's answer to ``instruction``; ``True`` when it changed anything.

    Args:
        today: the business date a success is booked on.
        actor: who brought the answer (``payment:<plugin>``, ``debit-run``).
    """
    if instruction.state not in OPEN or result.request_id != instruction.request_id:
        return False  # a duplicate or late answer, or not this instruction's
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if result.status == "pending":
        if instruction.state == "sending":
            instruction.state = "sent"
            instruction.channel_reference = result.channel_reference[:60]
        return instruction.state == "sent"
    if result.status == "succeeded" and result.amount > instruction.amount:
        _flag_mismatch(session, instruction, result, actor, now)
        return True
    instruction.channel_reference = result.channel_reference[:60]
    instruction.answered_at = now
    if result.status == "failed":
        instruction.failure_code, instruction.failure_message = result.failure_code[:40], result.failure_message[:200]
        instruction.retryable = result.retryable
        DEBIT_STATES.transition(session, instruction, "failed", actor=actor,
                                reason=f"{_about(instruction)} {result.failure_code}: {result.failure_message}"[:500])
        _tell(session, instruction, False, instruction.amount, result.failure_message or result.failure_code, today,
              now)
        return True
    event = repay(session, loan_id=instruction.loan_id, amount=result.amount, on=today, today=today,
                  channel=instruction.plugin, key=instruction.request_id, actor=actor,
                  overpayment_multiple=overpayment_multiple)
    instruction.collected, instruction.event_id = result.amount, event.id
    excess = Decimal(str((event.result or {}).get("excess", "0")))
    if excess > 0 and _policy(session, instruction).overpayment == "refund":
        file_for_excess(session, loan_id=instruction.loan_id, amount=excess, on=today,
                        request_id=instruction.request_id, now=now)
    instruction.failure_code = instruction.failure_message = ""
    outcome = "succeeded" if result.amount == instruction.amount else "partial"
    DEBIT_STATES.transition(session, instruction, outcome, actor=actor,
                            reason=f"{_about(instruction)} collected={result.amount:.2f}")
    _tell(session, instruction, True, result.amount, "", today, now)
    return True


def _tell(session: Session, instruction: DebitInstruction, succeeded: bool, amount: Decimal, reason: str,
          today: date, now: datetime) -> None:
    """Log the borrower's receipt or failure notice (sent later, within the hours: never in this transaction)."""
    loan = session.get(Loan, instruction.loan_id)
    assert loan is not None
    authorisation = of_loan(session, loan)
    debit_answered(session, loan=loan, period=instruction.period, attempt=instruction.attempt, succeeded=succeeded,
                   amount=amount, reason=reason, account_tail=authorisation.account_tail if authorisation else "",
                   on=today, now=now)


def _policy(session: Session, instruction: DebitInstruction) -> DebitPolicy:
    document = session.scalar(select(ProductVersion.document).where(
        ProductVersion.id == instruction.product_version_id))
    return DebitPolicy.of(document or {})


def _about(instruction: DebitInstruction) -> str:
    """The webhook's ``reason``: which loan, installment and attempt, and what was asked."""
    return (f"loan={instruction.loan_id} period={instruction.period} attempt={instruction.attempt} "
            f"amount={instruction.amount:.2f}")


def _flag_mismatch(session: Session, instruction: DebitInstruction, result: PaymentResult, actor: str,
                   now: datetime) -> None:
    instruction.failure_code = "AMOUNT_MISMATCH"
    instruction.failure_message = f"channel reports {result.amount:.2f} for {instruction.amount:.2f}"[:200]
    audit.record(session, actor=actor, action="debit.answer_refused", entity_type="debit_instruction",
                 entity_id=instruction.request_id, after={"asked": instruction.amount, "reported": result.amount,
                                                          "channel_reference": result.channel_reference},
                 comment=instruction.failure_message, at=now)
