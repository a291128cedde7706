"""Repayments and the overpayment suspense (溢缴款).

A repayment settles what is owed now (the installments due or overdue, after the loan is brought to the
business date) in the contract's allocation order; whatever is left over goes to the overpayment
suspense, which the end-of-day applies to the next installment on its due date, or which can be applied
(:func:`apply_suspense`) or refunded (:func:`refund_suspense`) on request. Installments not yet due are
never paid by a repayment: paying early is a prepayment (:mod:`core.loans.prepayment`).

Entries: repayment — Dr 1002.<channel> cash / Cr the receivables settled (1134 penalty, 1133 fee, 1132
interest, 1303 principal) / Cr 2241 suspense for the excess; suspense applied — Dr 2241 / Cr receivables;
refund — Dr 2241 / Cr 1002.<channel>.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.ledger.accounts import OVERPAYMENT_SUSPENSE, cash_clearing
from core.ledger.posting import Line
from core.loans.allocation import Allocation, allocate
from core.loans.context import (
    bring_to,
    check_open_date,
    installment_rows,
    locked_loan,
    open_event,
    post_lines,
    projected_rows,
    reclassify,
    require_state,
    rules_of,
    save_rows,
    suspense_of,
)
from core.loans.errors import AmountExceedsOutstandingError
from core.loans.events import ServicingEvent
from core.loans.ledger_lines import settlement_lines
from core.loans.models import Loan
from core.money import parse_money
from core.rounding import FEN

ZERO = Decimal(0)


def positive_fen(value: object, field: str = "amount") -> Decimal:
    """``value`` as a positive whole number of fen (:func:`~core.money.parse_money`: text of the documented
    pattern or a number), or :class:`~core.money.MoneyInputError` naming ``field``."""
    return parse_money(value, field, positive=True)


def fen(amount: Decimal) -> str:
    """``amount`` as text with exactly two decimals (PostgreSQL hands back four)."""
    return str(amount.quantize(FEN))


def settle(session: Session, loan: Loan, amount: Decimal, on: date) -> Allocation:
    """Allocate ``amount`` over the loan's open installments and record it on them (no posting)."""
    rows = installment_rows(session, loan.id)
    open_rows = [row for row in rows if row.open]
    if not open_rows:
        return Allocation((), amount)
    allocation = allocate(amount, [row.due() for row in open_rows], rules_of(loan).allocation)
    by_period = {row.period: row for row in open_rows}
    for line in allocation.lines:
        by_period[line.period].pay(line.component.value, line.amount, on)
    save_rows(session, rows)
    return allocation


def _allocation_json(allocation: Allocation) -> dict[str, Any]:
    return {"lines": [[line.period, line.component.value, fen(line.amount)] for line in allocation.lines],
            "excess": fen(allocation.excess)}


def execute_repayment(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None) -> None:
    """Carry out a recorded repayment (also used by the replay after a reversal)."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    allocation = settle(session, loan, event.amount, on)
    lines = [Line.dr(cash_clearing(event.channel or ""), event.amount), *settlement_lines(allocation)]
    if allocation.excess:
        lines.append(Line.cr(OVERPAYMENT_SUSPENSE, allocation.excess))
    post_lines(session, event, "repayment", "repayment", on, lines)
    event.result = _allocation_json(allocation)
    reclassify(session, loan, on, event)


def repay(session: Session, *, loan_id: int, amount: object, on: date, channel: str, key: str,
          actor: str) -> ServicingEvent:
    """Take a repayment of ``amount`` received through ``channel`` on business date ``on``.

    Returns:
        The event; ``event.result`` lists the allocation (period, component, amount) and the excess.

    Raises:
        InvalidArgumentError: ``amount`` is not positive whole fen, or the channel code is bad.
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is a closed business date.
    """
    money = positive_fen(amount)
    cash_clearing(channel)
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="repayment", key=key, on=on, actor=actor, amount=money,
                            channel=channel)
    if new:
        require_state(loan, "a repayment")
        check_open_date(session, on)
        execute_repayment(session, loan, event)
    return event


def execute_suspense_application(session: Session, loan: Loan, event: ServicingEvent,
                                 since: date | None = None) -> None:
    """Apply the suspense held for the loan to what it owes now."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    held = suspense_of(session, loan.id)
    owed = sum((row.due().total for row in installment_rows(session, loan.id) if row.open), ZERO)
    amount = min(held, owed)
    if amount > 0:
        allocation = settle(session, loan, amount, on)
        post_lines(session, event, "suspense", "suspense_applied", on,
                   [Line.dr(OVERPAYMENT_SUSPENSE, amount), *settlement_lines(allocation)])
        event.result = _allocation_json(allocation)
    event.amount = amount
    reclassify(session, loan, on, event)


def apply_suspense(session: Session, *, loan_id: int, on: date, key: str, actor: str) -> ServicingEvent:
    """Apply the loan's overpayment suspense to what is due now (nothing when nothing is due or held).

    Raises:
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is a closed business date.
    """
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="suspense_application", key=key, on=on, actor=actor)
    if new:
        require_state(loan, "applying the suspense")
        check_open_date(session, on)
        execute_suspense_application(session, loan, event)
    return event


def execute_refund(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None) -> None:
    """Pay suspense back to the borrower."""
    held = suspense_of(session, loan.id)
    if event.amount > held:
        raise AmountExceedsOutstandingError(f"amount: {event.amount} is more than the suspense held ({held})",
                                            field="amount", value=event.amount)
    post_lines(session, event, "refund", "suspense_refund", event.business_date,
               [Line.dr(OVERPAYMENT_SUSPENSE, event.amount), Line.cr(cash_clearing(event.channel or ""),
                                                                       event.amount)])


def refund_suspense(session: Session, *, loan_id: int, amount: object, on: date, channel: str, key: str,
                    actor: str) -> ServicingEvent:
    """Refund ``amount`` of the suspense through ``channel`` (any loan state: it is the borrower's money).

    Raises:
        AmountExceedsOutstandingError: more than the suspense held (field ``amount``).
        ServicingDateError: ``on`` is a closed business date.
    """
    money = positive_fen(amount)
    cash_clearing(channel)
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="suspense_refund", key=key, on=on, actor=actor,
                            amount=money, channel=channel)
    if new:
        check_open_date(session, on)
        execute_refund(session, loan, event)
    return event



def amount_due(session: Session, *, loan_id: int, on: date) -> Decimal:
    """What the borrower owes on ``on`` once the loan is brought to that date (every day not yet closed,
    penalty of each included), without posting anything: the amount a repayment on ``on`` must bring to
    settle all that is due."""
    return sum((row.due().total for row in projected_rows(session, loan_id, on) if row.open), ZERO)
