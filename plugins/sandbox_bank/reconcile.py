"""Reconciling the bank's daily file against our ledger, and reporting every difference.

Our side is the journal: the postings on the channel's cash clearing account (``1002.<channel>``,
:func:`core.ledger.cash_clearing`) of entries dated that business day. Each is matched to the payment it
records by its reference: for an entry posted by servicing (key ``svc:<event id>:…``) the servicing
event's ``request_key``, which is the payment's request id; for any other entry its own idempotency
key. Money in is a debit of the clearing account, money out a credit; a reversing entry nets off the
entry it reverses, so a reversed repayment the bank did collect shows up as a difference.

Every difference is reported, one row each:

================== ============================================================
kind               meaning
================== ============================================================
missing_in_ledger  the bank moved money we did not book
missing_in_bank    we booked money the bank did not move (or not on that day)
amount_mismatch    both sides know the payment, for different amounts or directions
================== ============================================================

A payout the bank settled on a date end-of-day had already closed is booked on a later open date
(:mod:`core.origination.late`): it is matched on the day the bank moved the money (its value date), not
on the day it was booked, and every such payout is listed beside the differences (``booked_late``, with
both dates), on both days' reconciliations.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ledger import JournalEntry, Posting, cash_clearing
from core.loans.events import ServicingEvent
from core.origination.late import LateBooking, late_bookings
from plugins.sandbox_bank.statement import StatementLine

ZERO = Decimal(0)


@dataclass(frozen=True)
class LedgerMovement:
    """Our booked cash movement for one reference: positive in, negative out."""

    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Difference:
    kind: str
    reference: str
    bank_amount: Decimal | None
    ledger_amount: Decimal | None


@dataclass(frozen=True)
class Reconciliation:
    """The result for one channel and day: how many payments agree, and every difference."""

    channel: str
    day: date
    matched: int
    differences: tuple[Difference, ...]
    late: tuple[LateBooking, ...] = ()

    @property
    def balanced(self) -> bool:
        return not self.differences

    def to_csv(self) -> bytes:
        """The differences as CSV: ``kind,reference,bank_amount,ledger_amount`` (signed: + in, − out)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("channel", "day", "kind", "reference", "bank_amount", "ledger_amount"))
        for d in self.differences:
            writer.writerow((self.channel, self.day.isoformat(), d.kind, d.reference,
                             "" if d.bank_amount is None else f"{d.bank_amount:.2f}",
                             "" if d.ledger_amount is None else f"{d.ledger_amount:.2f}"))
        for late in self.late:
            writer.writerow((self.channel, self.day.isoformat(), "booked_late", late.request_id,
                             f"value date {late.value_date}", f"booked on {late.booked_on}"))
        return out.getvalue().encode("utf-8")


def _event_id(key: str) -> int | None:
    parts = key.split(":")
    if len(parts) > 2 and parts[0] == "svc" and parts[1].isdigit():
        return int(parts[1])
    return None


def ledger_movements(session: Session, channel: str, day: date) -> list[LedgerMovement]:
    """Net cash movement per reference on ``channel``'s clearing account for business date ``day``."""
    rows = session.execute(
        select(JournalEntry.idempotency_key, Posting.debit, Posting.credit)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account == cash_clearing(channel), JournalEntry.business_date == day)).all()
    event_ids = {eid for key, _, _ in rows if (eid := _event_id(key)) is not None}
    request_keys = dict(session.execute(select(ServicingEvent.id, ServicingEvent.request_key)
                                        .where(ServicingEvent.id.in_(event_ids))).tuples().all()) if event_ids else {}
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key, debit, credit in rows:
        eid = _event_id(key)
        net[request_keys.get(eid, key) if eid is not None else key] += debit - credit
    return [LedgerMovement(reference, amount) for reference, amount in sorted(net.items()) if amount != ZERO]


def reconcile(channel: str, day: date, statement: Sequence[StatementLine],
              ledger: Iterable[LedgerMovement], late: Sequence[LateBooking] = ()) -> Reconciliation:
    """Match the bank's lines with our movements by request id and list every difference."""
    bank: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in statement:
        bank[line.request_id] += line.signed_amount
    ours = {movement.reference: movement.amount for movement in ledger}
    differences, matched = [], 0
    for reference in sorted(bank.keys() | ours.keys()):
        bank_amount, ledger_amount = bank.get(reference), ours.get(reference)
        if ledger_amount is None:
            differences.append(Difference("missing_in_ledger", reference, bank_amount, None))
        elif bank_amount is None:
            differences.append(Difference("missing_in_bank", reference, None, ledger_amount))
        elif bank_amount != ledger_amount:
            differences.append(Difference("amount_mismatch", reference, bank_amount, ledger_amount))
        else:
            matched += 1
    return Reconciliation(channel=channel, day=day, matched=matched, differences=tuple(differences),
                          late=tuple(late))


def reconcile_with_ledger(session: Session, channel: str, day: date,
                          statement: Sequence[StatementLine]) -> Reconciliation:
    """:func:`reconcile` the bank's lines for ``day`` against the journal in ``session``, each payout on its value
    date (a payout booked late is taken from the day it was booked)."""
    late = late_bookings(session, day, plugin=channel)
    elsewhere = {b.request_id for b in late if b.booked_on == day}
    movements = [m for m in ledger_movements(session, channel, day) if m.reference not in elsewhere]
    for booking in late:
        if booking.value_date == day:
            movements += [m for m in ledger_movements(session, channel, booking.booked_on)
                          if m.reference == booking.request_id]
    return reconcile(channel, day, statement, movements, late)
