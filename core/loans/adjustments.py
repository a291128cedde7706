"""Penalty waivers (罚息减免) and write-offs (核销).

A waiver forgives penalty interest: it reduces the penalty receivable and the penalty income (Dr 6012 /
Cr 1134) and the installments' penalty (``waived_penalty``) — of one installment when a ``period`` is
named, else spread over the installments oldest first. A write-off takes everything
the borrower still owes off the books against the loan-loss allowance (Dr 1304 / Cr each receivable: the
write-off consumes the allowance the provisions built, :mod:`core.finance.provision_posting`; on a non-accrual
loan the interest and penalty held in suspense are released against it too, so only what was recognised is
consumed), marks the unsettled
installments ``written_off`` and closes the loan as ``written_off``, a final state. Money held in suspense
stays the borrower's and can still be refunded.

Both are dual control: one user files a change request (:func:`core.backoffice.audit.request_change`), a
second decides it with :func:`decide_adjustment`, which carries an approved request out in the same
transaction, so the approval and its effect commit or roll back together.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from core.backoffice.audit import ChangeRequest, decide_change
from core.backoffice.users import User
from core.errors import InvalidArgumentError
from core.ledger import loan_balances
from core.ledger.accounts import (
    FEE_RECEIVABLE,
    INTEREST_RECEIVABLE,
    LOAN_LOSS_ALLOWANCE,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    PRINCIPAL_RECEIVABLE,
)
from core.ledger.posting import Line
from core.loans.context import (
    bring_to,
    check_open_date,
    installment_rows,
    locked_loan,
    open_event,
    post_lines,
    reclassify,
    require_state,
    save_rows,
)
from core.loans.errors import AmountExceedsOutstandingError
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.loans.nonaccrual import release_lines
from core.loans.repayment import fen, positive_fen
from core.states import LOAN_STATES

ZERO = Decimal(0)


def execute_waiver(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None) -> None:
    """Carry out a recorded penalty waiver."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    rows = installment_rows(session, loan.id)
    period = event.params.get("period")
    if period is not None:
        rows = [row for row in rows if row.period == period]
    owed = sum((row.unpaid_penalty for row in rows), ZERO)
    if event.amount > owed:
        where = "" if period is None else f" on installment {period}"
        raise AmountExceedsOutstandingError(f"amount: {event.amount} is more than the penalty owed{where} ({owed})",
                                            field="amount", value=event.amount)
    left = event.amount
    for row in rows:
        take = min(left, row.unpaid_penalty)
        if take > 0:
            row.set("waived_penalty", row.waived_penalty + take)
            if row.settled and row.status in ("due", "overdue"):
                row.set("status", "paid")
                row.set("paid_on", on)
            left -= take
    save_rows(session, rows)
    post_lines(session, event, "waiver", "penalty_waiver", on,
               [Line.dr(PENALTY_INCOME, event.amount), Line.cr(PENALTY_RECEIVABLE, event.amount)])
    reclassify(session, loan, on, event)


def waive_penalty(session: Session, *, loan_id: int, amount: object, on: date, key: str, actor: str,
                  reason: str = "", period: int | None = None) -> ServicingEvent:
    """Waive ``amount`` of the penalty interest owed: on installment ``period``, or (``None``) on the
    whole loan, oldest installment first.

    Raises:
        AmountExceedsOutstandingError: more than the penalty owed (on that installment) (field ``amount``).
        InvalidArgumentError: the loan has no installment ``period`` (field ``period``).
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is a closed business date.
    """
    money = positive_fen(amount)
    loan = locked_loan(session, loan_id)
    if period is not None and period not in {row.period for row in installment_rows(session, loan_id)}:
        raise InvalidArgumentError(f"period: loan {loan_id} has no installment {period}", field="period",
                                   value=period)
    event, new = open_event(session, loan=loan, kind="penalty_waiver", key=key, on=on, actor=actor, amount=money,
                            params={"reason": reason, "period": period})
    if new:
        require_state(loan, "a penalty waiver")
        check_open_date(session, on)
        execute_waiver(session, loan, event)
    return event


def execute_write_off(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None) -> None:
    """Carry out a recorded write-off."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    balances = loan_balances(session, loan.id)
    credits = [(PRINCIPAL_RECEIVABLE, balances.principal), (INTEREST_RECEIVABLE, balances.interest),
               (FEE_RECEIVABLE, balances.fee), (PENALTY_RECEIVABLE, balances.penalty)]
    total = sum((amount for _, amount in credits), ZERO)
    if total > 0:
        post_lines(session, event, "write_off", "write_off", on,
                   [Line.dr(LOAN_LOSS_ALLOWANCE, total),
                    *(Line.cr(code, amount) for code, amount in credits if amount),
                    *release_lines(session, loan.id, into=LOAN_LOSS_ALLOWANCE)])
    rows = installment_rows(session, loan.id)
    for row in rows:
        if row.status != "paid":
            row.set("status", "written_off")
    save_rows(session, rows)
    event.result = {"written_off": fen(total)}
    LOAN_STATES.transition(session, loan, "written_off", actor=event.actor,
                           reason=str(event.params.get("reason") or f"written off on {on}"))
    loan.closed_on = on
    loan.five_tier = "loss"
    session.flush()


def write_off(session: Session, *, loan_id: int, on: date, key: str, actor: str, reason: str = "") -> ServicingEvent:
    """Write the loan off: everything owed becomes a loss and the loan is closed as ``written_off``.

    Raises:
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is a closed business date.
    """
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="write_off", key=key, on=on, actor=actor,
                            params={"reason": reason})
    if new:
        require_state(loan, "a write-off")
        check_open_date(session, on)
        execute_write_off(session, loan, event)
    return event


def decide_adjustment(session: Session, change: ChangeRequest, *, checker: User, approve: bool,
                      comment: str = "") -> ChangeRequest:
    """Decide a filed penalty waiver or write-off as ``checker`` and carry an approved one out.

    The operation runs as the checker, on the request's business date, under a key of the request's own
    (``change:<id>``: a retried approval cannot run it twice), and the request becomes ``executed``. A
    refused operation raises and leaves everything to the caller's rollback: the request stays pending.

    Raises:
        PermissionDeniedError, FourEyesError, ChangeRequestClosedError: as
            :func:`core.backoffice.audit.decide_change`.
        InvalidArgumentError: the request is of a kind no loan operation carries out (field ``kind``).
        AmountExceedsOutstandingError, LoanNotServiceableError, ServicingDateError: as :func:`waive_penalty`
            and :func:`write_off`.
    """
    if change.kind not in ("penalty_waiver", "write_off"):
        raise InvalidArgumentError(f"kind: no loan operation carries out a {change.kind!r} request", field="kind",
                                   value=change.kind)
    decide_change(session, change, checker=checker, approve=approve, comment=comment)
    if not approve:
        return change
    on = date.fromisoformat(change.params["business_date"])
    key = f"change:{change.id}"
    actor = change.checker or checker.username
    if change.kind == "penalty_waiver":
        waive_penalty(session, loan_id=int(change.entity_id), amount=change.params["amount"], on=on, key=key,
                      actor=actor, reason=change.reason)
    else:
        write_off(session, loan_id=int(change.entity_id), on=on, key=key, actor=actor, reason=change.reason)
    change.state = "executed"
    return change
