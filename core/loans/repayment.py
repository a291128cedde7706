"""Repayments and the overpayment suspense (溢缴款).

A repayment settles what is owed now (the installments due or overdue, after the loan is brought to the
business date) in the contract's allocation order; whatever is left over goes to the overpayment
suspense, which the end-of-day applies to the next installment on its due date, or which can be applied
(:func:`apply_suspense`) or refunded (:func:`refund_suspense`) on request. Installments not yet due are
never paid by a repayment: paying early is a prepayment (:mod:`core.loans.prepayment`).

Money coming in is dated by its caller (``on``) and bounded (:func:`check_value_date
<core.loans.context.check_value_date>`: between the loan's last booked event and today's business date,
on a day not yet closed), and so is its amount: with the suspense already held it may not exceed
``overpayment_multiple`` times the loan's payoff (:func:`check_overpayment`), so a mistyped amount or a
channel's runaway loop cannot park an unbounded sum in the suspense.

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
    check_value_date,
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
#: the default of the most money a repayment may bring with the suspense already held, in payoffs
#: (the deployment's ``OVERPAYMENT_MAX_MULTIPLE``)
OVERPAYMENT_MULTIPLE = Decimal(2)
#: installments the borrower may still owe something on
UNSETTLED = ("pending", "due", "overdue")


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


def payoff(session: Session, loan_id: int) -> Decimal:
    """Everything the loan still asks for as its rows stand: every unsettled installment's principal,
    interest, fee and penalty not yet paid or waived (future interest included: a ceiling, not a quote)."""
    return sum((row.due().total for row in installment_rows(session, loan_id) if row.status in UNSETTLED), ZERO)


def check_overpayment(session: Session, loan: Loan, amount: Decimal, multiple: Decimal) -> None:
    """Refuse money that, with the suspense already held, is more than ``multiple`` payoffs of the loan
    (as brought to date: call it after :func:`~core.loans.context.bring_to`).

    Raises:
        AmountExceedsOutstandingError: the amount is too large (field ``amount``).
    """
    owed = payoff(session, loan.id)
    held = suspense_of(session, loan.id)
    if amount + held > multiple * owed:
        raise AmountExceedsOutstandingError(
            f"amount: {fen(amount)} with the {fen(held)} already held is more than {multiple.normalize():f} times "
            f"the loan's payoff of {fen(owed)}", field="amount", value=amount)


def execute_repayment(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None, *,
                      overpayment_multiple: Decimal | None = None) -> None:
    """Carry out a recorded repayment (also used by the replay after a reversal, which checks no amount: it
    was accepted when it was taken)."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    if overpayment_multiple is not None:
        check_overpayment(session, loan, event.amount, overpayment_multiple)
    allocation = settle(session, loan, event.amount, on)
    lines = [Line.dr(cash_clearing(event.channel or ""), event.amount), *settlement_lines(allocation)]
    if allocation.excess:
        lines.append(Line.cr(OVERPAYMENT_SUSPENSE, allocation.excess))
    post_lines(session, event, "repayment", "repayment", on, lines)
    event.result = _allocation_json(allocation)
    reclassify(session, loan, on, event)


def repay(session: Session, *, loan_id: int, amount: object, on: date, today: date, channel: str, key: str,
          actor: str, overpayment_multiple: Decimal = OVERPAYMENT_MULTIPLE) -> ServicingEvent:
    """Take a repayment of ``amount`` received through ``channel`` on business date ``on``.

    Args:
        today: the caller's business date; ``on`` may not be later.
        overpayment_multiple: the most ``amount`` and the suspense held may come to, in payoffs.

    Returns:
        The event; ``event.result`` lists the allocation (period, component, amount) and the excess.

    Raises:
        InvalidArgumentError: ``amount`` is not positive whole fen, or the channel code is bad.
        AmountExceedsOutstandingError: more than ``overpayment_multiple`` payoffs (field ``amount``).
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``paid_on``).
    """
    money = positive_fen(amount)
    cash_clearing(channel)
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="repayment", key=key, on=on, actor=actor, amount=money,
                            channel=channel)
    if new:
        require_state(loan, "a repayment")
        check_value_date(session, loan, on, today=today, field="paid_on", event=event)
        execute_repayment(session, loan, event, overpayment_multiple=overpayment_multiple)
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


def apply_suspense(session: Session, *, loan_id: int, on: date, today: date, key: str,
                   actor: str) -> ServicingEvent:
    """Apply the loan's overpayment suspense to what is due now (nothing when nothing is due or held).

    Raises:
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``on``).
    """
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="suspense_application", key=key, on=on, actor=actor)
    if new:
        require_state(loan, "applying the suspense")
        check_value_date(session, loan, on, today=today, field="on", event=event)
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


def refund_suspense(session: Session, *, loan_id: int, amount: object, on: date, today: date, channel: str,
                    key: str, actor: str) -> ServicingEvent:
    """Refund ``amount`` of the suspense through ``channel`` (any loan state: it is the borrower's money).

    Raises:
        AmountExceedsOutstandingError: more than the suspense held (field ``amount``).
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``on``).
    """
    money = positive_fen(amount)
    cash_clearing(channel)
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="suspense_refund", key=key, on=on, actor=actor,
                            amount=money, channel=channel)
    if new:
        check_value_date(session, loan, on, today=today, field="on", event=event)
        execute_refund(session, loan, event)
    return event


def amount_due(session: Session, *, loan_id: int, on: date) -> Decimal:
    """What the borrower owes on ``on`` once the loan is brought to that date (every day not yet closed,
    penalty of each included), without posting anything: the amount a repayment on ``on`` must bring to
    settle all that is due."""
    return sum((row.due().total for row in projected_rows(session, loan_id, on) if row.open), ZERO)
