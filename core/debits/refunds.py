"""Refunding an overpayment held in suspense (溢缴款退款) to the borrower's card, under maker-checker.

One person files the refund (:func:`file_refund`, permission ``loan.refund.request``: a
:class:`~core.backoffice.audit.ChangeRequest` of kind ``suspense_refund`` with the amount and the business
date); a second person holding ``loan.refund.approve`` decides it (:func:`decide_refund`). An approval sends
``payment_refund`` to the loan's payment channel against the loan's latest successful debit that collected at
least the amount (the channel refunds to the card the money came from), under the request id
``LF-REFUND-<request id>``, and posts the refund (:func:`core.loans.repayment.refund_suspense`: Dr 2241
suspense / Cr 1002.<channel>) under the same key, so the bank's reconciliation file and the ledger agree line
by line. Money no debit of the loan collected (an offline repayment, a channel's repayment) goes back the way
finance pays out: the approval posts the refund through the ``offline`` channel (Cr 1002.offline) and finance
transfers it. A channel that refuses or fails raises and leaves everything to the caller's rollback: the
request stays pending. The refund is the borrower's money going back: any loan state. This is the only way
money held for a borrower is refunded.

A product whose ``debit.overpayment`` is ``refund`` has the debit that left money in suspense file the
refund itself (:func:`file_for_excess`, maker ``system:debits``, in the transaction that posted the debit);
a person still decides it. With ``apply_to_next`` (the default) nobody files one unless asked. Either way
end-of-day applies whatever is still held on the next installment's due date: a refund is decided before
that date or not at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice.audit import ChangeRequest, decide_change, request_change
from core.backoffice.users import User
from core.debits.models import DebitInstruction
from core.errors import InvalidArgumentError, WrongStateError
from core.loans.repayment import positive_fen, refund_suspense
from core.plugins.manager import PluginManager
from core.plugins.types import PaymentResult, RefundRequest

KIND = "suspense_refund"


def file_refund(session: Session, *, maker: User, loan_id: int, amount: object, on: date,
                reason: str) -> ChangeRequest:
    """File the refund of ``amount`` of the loan's suspense for a second person to decide.

    Raises:
        InvalidArgumentError: ``amount`` is not positive whole fen (field ``amount``), or ``reason`` is empty.
        PermissionDeniedError: ``maker`` may not file refunds.
    """
    money = positive_fen(amount)
    return request_change(session, maker=maker, kind=KIND, entity_type="loan", entity_id=loan_id,
                          params={"business_date": on.isoformat(), "amount": f"{money:.2f}"}, reason=reason)


SYSTEM_MAKER = "system:debits"
#: the channel a refund is posted through when no debit of the loan collected the amount (a bank transfer)
OFFLINE_CHANNEL = "offline"


def file_for_excess(session: Session, *, loan_id: int, amount: Decimal, on: date, request_id: str,
                    now: datetime | None = None) -> ChangeRequest:
    """File, as the system, the refund of what debit ``request_id`` collected beyond what was owed."""
    change = ChangeRequest(kind=KIND, entity_type="loan", entity_id=str(loan_id),
                           params={"business_date": on.isoformat(), "amount": f"{amount:.2f}"}, state="pending",
                           maker=SYSTEM_MAKER, reason=f"溢缴款自动退款申请：{request_id} 多扣 {amount:.2f}",
                           created_at=(now or datetime.now(UTC)).astimezone(UTC))
    session.add(change)
    session.flush()
    return change


def refunded_debit(session: Session, loan_id: int, amount: Decimal) -> DebitInstruction | None:
    """The loan's latest successful debit that collected at least ``amount`` (what the refund goes back
    through), or ``None`` when no debit did (the refund is then paid out offline)."""
    return session.scalar(select(DebitInstruction).where(
        DebitInstruction.loan_id == loan_id, DebitInstruction.state.in_(("succeeded", "partial")),
        DebitInstruction.collected >= amount).order_by(DebitInstruction.id.desc()).limit(1))


def decide_refund(session: Session, plugins: PluginManager, change: ChangeRequest, *, checker: User, approve: bool,
                  today: date, comment: str = "") -> ChangeRequest:
    """Decide a filed refund as ``checker``; carry an approved one out (the channel's refund, then the posting).

    Raises:
        InvalidArgumentError: the request is not a refund (field ``kind``).
        PermissionDeniedError, FourEyesError, ChangeRequestClosedError: as
            :func:`core.backoffice.audit.decide_change`.
        WrongStateError: the channel refused the refund (field ``amount``).
        AmountExceedsOutstandingError: more than the suspense held (field ``amount``).
        PluginFailure: the channel failed; nothing is posted (retry the approval).
    """
    if change.kind != KIND:
        raise InvalidArgumentError(f"kind: {change.kind!r} is not a refund", field="kind", value=change.kind)
    decide_change(session, change, checker=checker, approve=approve, comment=comment)
    if not approve:
        return change
    loan_id, amount = int(change.entity_id), Decimal(change.params["amount"])
    debit = refunded_debit(session, loan_id, amount)
    key = f"LF-REFUND-{change.id}"
    channel = OFFLINE_CHANNEL
    if debit is not None:
        result: PaymentResult = plugins.call(
            debit.plugin, "payment_refund", session=session, subject=f"loan:{loan_id}",
            request=RefundRequest(request_id=key, original_request_id=debit.request_id, amount=amount,
                                  reason=change.reason))
        if result.status == "failed":
            raise WrongStateError(f"amount: the channel refused the refund: {result.failure_code} "
                                  f"{result.failure_message}", field="amount", value=amount)
        channel = debit.plugin
    refund_suspense(session, loan_id=loan_id, amount=amount, on=date.fromisoformat(change.params["business_date"]),
                    today=today, channel=channel, key=key, actor=change.checker or checker.username)
    change.state = "executed"
    return change
