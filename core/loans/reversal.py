"""Reversing a repayment, and replaying what happened to the loan after it.

A repayment that turns out not to have been received (a bounced debit, a payment booked to the wrong
loan) is reversed as if it never happened, without rewriting history: every journal entry of the loan
from the repayment on is reversed by a mirror entry, the loan's installments and servicing state are put
back as they were just before the repayment (its snapshot), and then the loan's later events are
executed again, in their original order, interleaved with the end-of-day of every business date closed
since. The result is exactly the loan as if the repayment had never been taken: later repayments are
allocated again (so they may now settle penalty they did not before), penalty is charged on the days
the loan is now overdue. Replayed entries carry keys of a new generation, so they post beside the
reversed ones. A later write-off cannot be replayed (a written-off loan is final): the reversal is refused.

The books of a closed day never change: every entry of a reversal — the mirror entries (each referencing
the entry it reverses, its memo naming that entry and its value date) and everything the replay posts —
is booked on the business date the reversal is performed on. The replay still runs each event and each
end-of-day as of its own value date (the reversal records the repayment's value date, each replayed event
its booking date in ``params["booked_on"]``), so the loan's installments and balances are exactly those of
a history without the repayment, and the trial balance of any earlier day is what it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from core.businessday.closes import last_closed
from core.errors import LoanFactoryError
from core.ledger import JournalEntry, reverse
from core.loans.adjustments import execute_waiver, execute_write_off
from core.loans.context import (
    check_open_date,
    close_loan,
    locked_loan,
    open_event,
    refresh,
    restore,
    start,
    value_memo,
)
from core.loans.daily import eod_keys
from core.loans.errors import RepaymentNotReversibleError
from core.loans.events import LoanServicingState, ServicingEvent
from core.loans.models import Loan
from core.loans.prepayment import execute_prepayment
from core.loans.repayment import execute_refund, execute_repayment, execute_suspense_application
from core.states import LOAN_STATES

Executor = Callable[[Session, Loan, ServicingEvent, date | None], None]

EXECUTORS: dict[str, Executor] = {
    "repayment": execute_repayment,
    "prepayment": execute_prepayment,
    "penalty_waiver": execute_waiver,
    "suspense_application": execute_suspense_application,
    "suspense_refund": execute_refund,
    "write_off": execute_write_off,
}
REVERSIBLE = ("repayment", "prepayment")


def _target(session: Session, loan_id: int, repayment_id: int) -> ServicingEvent:
    target = session.get(ServicingEvent, repayment_id)
    if target is None or target.loan_id != loan_id or target.kind not in REVERSIBLE:
        raise RepaymentNotReversibleError(f"repayment_id: no repayment {repayment_id} on loan {loan_id}",
                                          field="repayment_id", value=repayment_id)
    if target.status != "posted":
        raise RepaymentNotReversibleError(f"repayment_id: repayment {repayment_id} is already {target.status}",
                                          field="repayment_id", value=repayment_id)
    return target


def _reverse_entries(session: Session, loan_id: int, first_entry_id: int, reversal: ServicingEvent) -> int:
    """Mirror every entry of the loan from ``first_entry_id`` not reversed yet, booked on the reversal's date."""
    mirror = aliased(JournalEntry)
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.loan_id == loan_id, JournalEntry.id >= first_entry_id,
                                   JournalEntry.reverses_entry_id.is_(None),
                                   ~select(mirror.id).where(mirror.reverses_entry_id == JournalEntry.id).exists())
        .order_by(JournalEntry.id)).all()
    for entry in entries:
        reverse(session, entry, key=f"rev:{reversal.id}:{entry.id}", event="reversal",
                business_date=reversal.business_date,
                memo=f"reverses {entry.idempotency_key}; {value_memo(entry.business_date)}"[:200])
    return len(entries)


def _replay(session: Session, loan: Loan, event: ServicingEvent, since: date | None, book_on: date) -> None:
    event.generation += 1
    start(session, loan, event)
    event.params = {**event.params, "booked_on": book_on.isoformat()}
    try:
        EXECUTORS[event.kind](session, loan, event, since)
    except LoanFactoryError as error:
        raise RepaymentNotReversibleError(
            f"repayment_id: the later {event.kind} {event.id} of {event.business_date} cannot be replayed "
            f"without the reversed repayment ({error})", field="repayment_id", value=event.id) from error


def reverse_repayment(session: Session, *, loan_id: int, repayment_id: int, on: date, key: str, actor: str,
                      reason: str = "") -> ServicingEvent:
    """Reverse repayment (or prepayment) ``repayment_id`` and replay the loan's later events, booking it all
    on business date ``on`` (module docstring).

    Returns:
        The reversal event; ``result`` says how many entries were reversed and which events replayed.

    Raises:
        RepaymentNotReversibleError: no such repayment on this loan, already reversed, a later write-off,
            or a later event that cannot be replayed without it (field ``repayment_id``); ``on`` before the
            repayment's date (field ``on``).
        ServicingDateError: ``on`` is a closed business date.
    """
    loan = locked_loan(session, loan_id)
    reversal, new = open_event(session, loan=loan, kind="reversal", key=key, on=on, actor=actor,
                               params={"reverses": repayment_id, "reason": reason})
    if not new:
        return reversal
    check_open_date(session, on)
    target = _target(session, loan_id, repayment_id)
    if on < target.business_date:
        raise RepaymentNotReversibleError(f"on: {on} is before the repayment's date {target.business_date}",
                                          field="on", value=on)
    reversal.params = {**reversal.params, "value_date": target.business_date.isoformat()}
    later = list(session.scalars(select(ServicingEvent).where(
        ServicingEvent.loan_id == loan_id, ServicingEvent.id > target.id, ServicingEvent.id != reversal.id,
        ServicingEvent.status == "posted", ServicingEvent.kind.in_(list(EXECUTORS))).order_by(ServicingEvent.id)))
    if any(event.kind == "write_off" for event in later):
        raise RepaymentNotReversibleError(f"repayment_id: loan {loan_id} was written off after repayment "
                                          f"{repayment_id}", field="repayment_id", value=repayment_id)
    assert target.snapshot is not None and target.first_entry_id is not None
    reversed_count = _reverse_entries(session, loan_id, target.first_entry_id, reversal)
    restore(session, loan, target.snapshot)
    before = target.snapshot["loan"]["state"]
    if loan.state != before:
        LOAN_STATES.transition(session, loan, before, actor=actor,
                               reason=f"repayment {repayment_id} reversed: {reason}".rstrip(": "))
    target.status = "reversed"
    state = session.get(LoanServicingState, loan_id)
    assert state is not None
    state.generation += 1
    session.flush()
    _replay_history(session, loan, target, later, state.generation, on)
    refresh(session, loan)
    reversal.result = {"reversed": repayment_id, "entries_reversed": reversed_count,
                       "replayed": [event.id for event in later]}
    return reversal


def _replay_history(session: Session, loan: Loan, target: ServicingEvent, later: list[ServicingEvent],
                    generation: int, book_on: date) -> None:
    """Execute ``later`` again in order, closing each business date closed since ``target``'s time, booking
    everything on ``book_on``."""
    closed_then = target.params.get("closed_through")
    day = date.fromisoformat(closed_then) + timedelta(days=1) if closed_then else target.business_date
    last = last_closed(session)
    pending = list(later)
    while last is not None and day <= last:
        while pending and pending[0].business_date <= day:
            _replay(session, loan, pending.pop(0), day, book_on)
        if loan.state in ("active", "overdue"):
            close_loan(session, loan.id, day, eod_keys(day, loan.id, generation), "eod", book_on)
            refresh(session, loan)
        day += timedelta(days=1)
    for event in pending:
        _replay(session, loan, event, None, book_on)
