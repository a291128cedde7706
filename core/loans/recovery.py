"""Recoveries after write-off (核销后收回): money received on a written-off loan posts back to the allowance.

A written-off loan is still owed (the debt survives the write-off and stays reported to the bureau). Money
collected on it afterwards is booked Dr the channel's cash clearing / Cr 1304 loan-loss allowance: it restores
the allowance the write-off consumed, and the next provision run (:mod:`core.finance.provision_posting`)
releases whatever the book no longer needs into the period's result. The loan stays ``written_off``; nothing
is allocated to its installments. At most what was written off, less what was recovered before, is taken.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ledger.accounts import LOAN_LOSS_ALLOWANCE, cash_clearing
from core.ledger.posting import Line
from core.loans.context import check_value_date, locked_loan, open_event, post_lines, require_state
from core.loans.errors import AmountExceedsOutstandingError
from core.loans.events import ServicingEvent
from core.loans.repayment import fen, positive_fen

EVENT = "recovery"


def recoverable(session: Session, loan_id: int, excluding: int | None = None) -> Decimal:
    """What was written off on the loan less what was recovered since (never below zero), leaving out the
    recovery event ``excluding`` (the one being taken)."""
    written, recovered = Decimal(0), Decimal(0)
    for kind, amount, result in session.execute(select(
            ServicingEvent.kind, ServicingEvent.amount, ServicingEvent.result).where(
            ServicingEvent.loan_id == loan_id, ServicingEvent.kind.in_(("write_off", EVENT)),
            ServicingEvent.status == "posted", ServicingEvent.id != (excluding or 0))):
        if kind == EVENT:
            recovered += amount
        else:
            written += Decimal(str((result or {}).get("written_off", "0")))
    return max(written - recovered, Decimal(0))


def recover(session: Session, *, loan_id: int, amount: object, on: date, today: date, channel: str, key: str,
            actor: str) -> ServicingEvent:
    """Book ``amount`` received through ``channel`` on written-off loan ``loan_id`` (module docstring).

    Raises:
        InvalidArgumentError: ``amount`` is not positive whole fen, or the channel code is bad.
        LoanNotServiceableError: the loan is not written off (field ``loan_id``).
        AmountExceedsOutstandingError: more than was written off and not yet recovered (field ``amount``).
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``on``).
    """
    money = positive_fen(amount)
    clearing = cash_clearing(channel)
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind=EVENT, key=key, on=on, actor=actor, amount=money,
                            channel=channel)
    if not new:
        return event
    require_state(loan, "a recovery", ("written_off",))
    check_value_date(session, loan, on, today=today, field="on", event=event)
    left = recoverable(session, loan_id, excluding=event.id)
    if money > left:
        raise AmountExceedsOutstandingError(f"amount: {fen(money)} is more than the {fen(left)} written off and "
                                            "not yet recovered", field="amount", value=money)
    post_lines(session, event, "recovery", EVENT, on, [Line.dr(clearing, money), Line.cr(LOAN_LOSS_ALLOWANCE, money)])
    event.result = {"recovered": fen(money), "still_recoverable": fen(left - money)}
    return event

