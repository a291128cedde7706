"""Posting to the journal: one event at a time (:func:`post`), reversals, and set-based batches.

Every entry is checked before anything is written: each line is on an account of the chart, has exactly
one positive side with at most 4 decimal places, per-loan accounts name their loan, and debits equal
credits (:class:`UnbalancedEntryError` names the residual). The idempotency key makes a post happen once:
a key that already posted returns the existing entry when the event, loan, date and lines are the same
(compared by a fingerprint stored with the entry) and raises :class:`IdempotencyConflictError` when they
differ. The insert is ``INSERT .. ON CONFLICT DO NOTHING``: under concurrent posts of one
key, PostgreSQL makes the later transactions wait for the first and then find its entry, so exactly one
entry exists whoever wins. Every post updates the ``loan_balances`` projection in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.errors import InvalidArgumentError
from core.ledger import pg_bulk
from core.ledger.accounts import BUCKET_OF, account
from core.ledger.errors import IdempotencyConflictError, ReversalError, UnbalancedEntryError
from core.ledger.models import JournalEntry, Posting
from core.ledger.periods import refuse_closed
from core.ledger.projection import Deltas, apply_deltas, line_deltas
from core.money import to_decimal

ZERO = Decimal(0)
_PLACES = Decimal("0.0001")
_LIMIT = Decimal(10) ** 16  # NUMERIC(20, 4) holds 16 integer digits
_BATCH = 5000
_KNOWN_ACCOUNTS: set[str] = set()
_ENTRIES: Table = JournalEntry.__table__  # type: ignore[assignment]
_POSTINGS: Table = Posting.__table__  # type: ignore[assignment]


class Line(NamedTuple):
    """One side of an entry: ``debit`` or ``credit`` on ``account`` (``loan_id`` defaults to the entry's).

    A named tuple, so that building millions of them for a batch stays cheap; entries validate them.
    """

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    loan_id: int | None = None

    @classmethod
    def dr(cls, account: str, amount: object, loan_id: int | None = None) -> Line:
        """A debit of ``amount``."""
        return cls(account, to_decimal(amount, "debit"), ZERO, loan_id)

    @classmethod
    def cr(cls, account: str, amount: object, loan_id: int | None = None) -> Line:
        """A credit of ``amount``."""
        return cls(account, ZERO, to_decimal(amount, "credit"), loan_id)


LineLike = Line | tuple[Any, ...]


@dataclass(frozen=True)
class NewEntry:
    """An entry to post: validated on construction (see the module docstring for the rules)."""

    key: str
    event: str
    business_date: date
    lines: tuple[Line, ...]
    loan_id: int | None = None
    memo: str | None = None
    fingerprint: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > 200:
            raise InvalidArgumentError("key: an idempotency key of 1 to 200 characters is required", field="key")
        if not self.event or len(self.event) > 40:
            raise InvalidArgumentError("event: an event type of 1 to 40 characters is required", field="event")
        if not isinstance(self.business_date, date):
            raise InvalidArgumentError("business_date: must be a date", field="business_date")
        lines = tuple(_line(raw, self.loan_id) for raw in self.lines)
        if len(lines) < 2:
            raise InvalidArgumentError(f"lines: entry {self.key!r} needs at least two lines", field="lines")
        residual = sum((line.debit - line.credit for line in lines), ZERO)
        if residual:
            raise UnbalancedEntryError(self.key, residual)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "fingerprint", _fingerprint(self))


def _line(raw: LineLike, entry_loan: int | None) -> Line:
    """``raw`` as a checked :class:`Line` with its loan resolved (the hot path of batches: keep it lean)."""
    code, debit, credit, *rest = raw
    loan_id = rest[0] if rest else None
    if code not in _KNOWN_ACCOUNTS:
        account(code)
        _KNOWN_ACCOUNTS.add(code)
    if type(debit) is not Decimal:
        debit = to_decimal(debit, "debit")
    if type(credit) is not Decimal:
        credit = to_decimal(credit, "credit")
    amount = debit or credit
    if (debit and credit) or amount <= 0 or amount >= _LIMIT:
        raise InvalidArgumentError(f"lines: {code} needs one positive side under 10^16, got debit {debit} "
                                   f"credit {credit}",
                                   field="lines", value=(debit, credit))
    exact = amount.quantize(_PLACES)
    if exact != amount:
        raise InvalidArgumentError(f"lines: {code} amount {amount} has more than 4 decimal places", field="lines",
                                   value=amount)
    if loan_id is None:
        loan_id = entry_loan
        if loan_id is None and code in BUCKET_OF:
            raise InvalidArgumentError(f"loan_id: a line on per-loan account {code} needs a loan", field="loan_id")
    return Line(code, exact, ZERO, loan_id) if debit else Line(code, ZERO, exact, loan_id)


def _fingerprint(entry: NewEntry) -> str:
    """A digest of what the entry says; lines carry amounts at 4 places, so ``1.10`` and ``1.1`` agree."""
    parts = sorted(f"{x.account}|{x.loan_id}|{str(x.debit) if x.debit else '-' + str(x.credit)}" for x in entry.lines)
    canonical = "\n".join([entry.event, str(entry.loan_id), entry.business_date.isoformat(), *parts])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert_entries(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert entry rows, skipping keys that exist; returns key -> id of those inserted."""
    if _is_postgresql(session):
        return pg_bulk.insert_entries(session, rows)
    table = _ENTRIES
    statement = (sqlite_insert(table).on_conflict_do_nothing()
                 .returning(table.c.id, table.c.idempotency_key))
    return {key: entry_id for entry_id, key in session.execute(statement, rows)}


def _check_existing(session: Session, entries: Sequence[NewEntry]) -> None:
    """Raise if an already-posted key was posted again with different content."""
    table = _ENTRIES
    wanted = {e.key: e for e in entries}
    keys = list(wanted)
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        for key, fingerprint in session.execute(
                select(table.c.idempotency_key, table.c.fingerprint).where(table.c.idempotency_key.in_(chunk))):
            if fingerprint != wanted[key].fingerprint:
                raise IdempotencyConflictError(
                    f"key: {key!r} already posted a different entry (event, loan, date or lines differ)",
                    field="key", value=key)


def _write(session: Session, entries: Sequence[NewEntry], reverses: int | None = None) -> dict[str, int]:
    """Insert ``entries`` (unique keys) with their postings and projection deltas; key -> id of new ones."""
    refuse_closed(session, {entry.business_date for entry in entries})
    rows = [{"idempotency_key": e.key, "event": e.event, "loan_id": e.loan_id, "business_date": e.business_date,
             "reverses_entry_id": reverses, "fingerprint": e.fingerprint, "memo": e.memo} for e in entries]
    rows.sort(key=lambda row: str(row["idempotency_key"]))  # one lock order for concurrent batches
    inserted = _insert_entries(session, rows)
    skipped = [e for e in entries if e.key not in inserted]
    if skipped:
        _check_existing(session, skipped)
    postings: list[dict[str, Any]] = []
    deltas: Deltas = {}
    for entry in entries:
        entry_id = inserted.get(entry.key)
        if entry_id is None:
            continue
        for line in entry.lines:
            postings.append({"entry_id": entry_id, "account": line.account, "loan_id": line.loan_id,
                             "debit": line.debit, "credit": line.credit})
            line_deltas(deltas, line.account, line.loan_id, line.debit, line.credit)
    if postings and _is_postgresql(session):
        pg_bulk.insert_postings(session, postings)
    elif postings:
        session.execute(insert(_POSTINGS), postings)
    apply_deltas(session, deltas)
    return inserted


def post(session: Session, *, key: str, event: str, business_date: date, lines: Iterable[LineLike],
         loan_id: int | None = None, memo: str | None = None) -> JournalEntry:
    """Post one balanced entry, once per ``key``; returns the entry (the existing one on a repeat).

    Args:
        key: the idempotency key of the business event (e.g. ``repayment:<channel>:<payment id>``).
        event: the event type (``disbursement``, ``repayment``, ``accrual``...).
        business_date: the business date the event belongs to.
        lines: :class:`Line` objects or ``(account, debit, credit[, loan_id])`` tuples.
        loan_id: the loan of the entry, and the default loan of its lines.
        memo: free text for people reading the journal (not part of the idempotency check).

    Raises:
        UnbalancedEntryError: debits and credits differ.
        InvalidArgumentError: a line is malformed (unknown account, negative or two-sided amount...).
        IdempotencyConflictError: ``key`` already posted something different.
    """
    entry = NewEntry(key, event, business_date, tuple(_line(raw, loan_id) for raw in lines), loan_id, memo)
    return _post_entry(session, entry)


def _post_entry(session: Session, entry: NewEntry, reverses: int | None = None) -> JournalEntry:
    session.flush()
    existing = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == entry.key))
    if existing is None:
        entry_id = _write(session, [entry], reverses).get(entry.key)
        if entry_id is not None:
            created = session.get(JournalEntry, entry_id)
            assert created is not None
            return created
        existing = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == entry.key))
        if existing is None:  # the insert met another unique rule: a concurrent reversal of the same entry
            raise ReversalError(f"entry: {reverses} was reversed concurrently under another key", field="entry",
                                value=reverses)
    if existing.fingerprint != entry.fingerprint:
        raise IdempotencyConflictError(
            f"key: {entry.key!r} already posted a different entry (event, loan, date or lines differ)",
            field="key", value=entry.key)
    return existing


def reverse(session: Session, entry: JournalEntry | int, *, key: str, business_date: date | None = None,
            event: str = "reversal", memo: str | None = None) -> JournalEntry:
    """Post the mirror image of ``entry`` (debits and credits swapped), once per ``key``.

    Raises:
        ReversalError: ``entry`` is itself a reversal, or was already reversed under another key.
    """
    original = session.get(JournalEntry, entry) if isinstance(entry, int) else entry
    if original is None:
        raise InvalidArgumentError(f"entry: no journal entry {entry}", field="entry", value=entry)
    if original.reverses_entry_id is not None:
        raise ReversalError(f"entry: {original.id} is a reversal; post a new entry instead", field="entry")
    mirror = NewEntry(key, event, business_date or original.business_date,
                      tuple(Line(p.account, p.credit, p.debit, p.loan_id) for p in original.postings),
                      original.loan_id, memo or f"reverses {original.idempotency_key}")
    earlier = session.scalar(select(JournalEntry).where(JournalEntry.reverses_entry_id == original.id))
    if earlier is not None and earlier.idempotency_key != key:
        raise ReversalError(f"entry: {original.id} was already reversed by {earlier.idempotency_key!r}",
                            field="entry", value=original.id)
    return _post_entry(session, mirror, reverses=original.id)


@dataclass(frozen=True)
class PostManyResult:
    """How many entries a batch inserted and how many it skipped because their key had posted."""

    inserted: int
    skipped: int


def post_many(session: Session, entries: Iterable[NewEntry]) -> PostManyResult:
    """Post many entries set-based, 5,000 per batch: one entry insert, one posting write, one projection upsert.

    Each :class:`NewEntry` was validated (balanced) when built. Keys that already posted are skipped (a
    repeated key within ``entries`` too); a key that posted different content raises
    :class:`IdempotencyConflictError` and the caller must roll back the transaction.
    """
    session.flush()
    inserted = skipped = 0
    batch: dict[str, NewEntry] = {}

    def flush_batch() -> None:
        nonlocal inserted, skipped
        written = _write(session, list(batch.values()))
        inserted += len(written)
        skipped += len(batch) - len(written)
        batch.clear()

    for entry in entries:
        twin = batch.get(entry.key)
        if twin is not None:
            if twin.fingerprint != entry.fingerprint:
                raise IdempotencyConflictError(f"key: {entry.key!r} appears twice with different content",
                                               field="key", value=entry.key)
            skipped += 1
            continue
        batch[entry.key] = entry
        if len(batch) >= _BATCH:
            flush_batch()
    if batch:
        flush_batch()
    return PostManyResult(inserted, skipped)
