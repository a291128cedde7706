"""Posting from SQL on PostgreSQL: two-line entries whose amounts the database computed.

:func:`post_pairs` posts, for every row of a source table ``(loan_id, key, amount)``, the entry
``Dr debit / Cr credit amount`` on the row's loan, in three statements whatever the number of rows, with
no row passing through Python. It keeps every rule of :func:`core.ledger.post_many`:

- the idempotency key posts once: keys that already posted are skipped, and a key that posted different
  content raises :class:`IdempotencyConflictError` (the fingerprint is computed in SQL exactly as
  :class:`core.ledger.NewEntry` computes it, so the two paths agree byte for byte). The posted keys are
  left out as the source is read and the rest inserted plainly, which costs a third less than an
  ``ON CONFLICT`` insert; each key is looked up only when some entry's key lies between the source's least
  and greatest (one index probe: a night's keys are new, so a partition's accruals skip 50,000 lookups).
  A key that another transaction commits in between fails the statement on the unique index instead of
  being skipped (the end-of-day holds its loans' balance rows, which every servicing operation locks
  first, so nothing else posts their keys meanwhile);
- every entry balances: both lines carry the same amount by construction, the amount must be positive,
  at most 4 decimal places and under 10^16 (checked set-based before anything is written, raising
  :class:`InvalidArgumentError`), and the deferred PostgreSQL trigger sums every written entry's postings
  at commit (a statement that broke the rule would fail the commit, so it is not summed twice);
- the entries' ids are drawn from their sequence as the source is read, so the postings find their entry
  by id (an integer join) rather than by its key;
- the ``loan_balances`` projection gets the amounts in the same transaction.

Nothing commits: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import InvalidArgumentError
from core.ledger.accounts import BUCKET_OF, CHART, LOAN_BUCKETS, Side
from core.ledger.errors import IdempotencyConflictError
from core.ledger.periods import refuse_closed
from core.ledger.pg_bulk import ADD_EXCLUDED

_IDENTIFIER = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class PairsResult:
    """How many entries the source asked for, and how many were inserted (the rest had posted)."""

    wanted: int
    inserted: int


def _canonical(debit: str, credit: str) -> str:
    """The SQL of :func:`core.ledger.posting._fingerprint`'s text for a two-line entry of ``s.amount``."""
    amount = "CAST(s.amount AS numeric(20, 4))"
    parts = sorted([(f"{debit}|", 1, amount), (f"{credit}|", 0, f"'-' || {amount}")])
    lines = " || E'\\n' || ".join(f"'{code}' || s.loan_id || '|' || {value}" for code, _, value in parts)
    return f"CAST(:event AS text) || E'\\n' || s.loan_id || E'\\n' || CAST(:day AS text) || E'\\n' || {lines}"


def _projection(debit: str, credit: str) -> dict[str, str]:
    """The ``loan_balances`` columns the pair moves, each with its delta (``s.amount`` times the side's sign)."""
    deltas = {}
    for code, side in ((debit, Side.DEBIT), (credit, Side.CREDIT)):
        bucket = BUCKET_OF.get(code)
        if bucket is not None:
            deltas[bucket] = "s.amount" if CHART[code].normal is side else "-s.amount"
    return deltas


def post_pairs(session: Session, source: str, *, event: str, business_date: date, debit: str,
               credit: str) -> PairsResult:
    """Post ``Dr debit / Cr credit amount`` for each row of the table ``source`` (columns ``loan_id``,
    ``key``, ``amount``; one row per key), skipping keys that posted before.

    Args:
        source: the name of a (temporary) table; a plain SQL identifier.
        debit, credit: account codes of the chart (per-loan accounts take the row's loan).

    Raises:
        InvalidArgumentError: an amount is not positive, has more than 4 places or is 10^16 or more;
            an account is not in the chart; ``source`` is not an identifier.
        IdempotencyConflictError: a key already posted a different entry.
        PeriodClosedError: ``business_date`` is in a closed accounting period.
    """
    if not source or not set(source) <= _IDENTIFIER:
        raise InvalidArgumentError(f"source: {source!r} is not a table name", field="source", value=source)
    for code in (debit, credit):
        if code not in CHART:
            raise InvalidArgumentError(f"account: {code!r} is not in the chart of accounts", field="account",
                                       value=code)
    refuse_closed(session, [business_date])
    params = {"event": event, "day": business_date.isoformat(), "on": business_date, "debit": debit,
              "credit": credit}
    bad = session.execute(text(
        f"SELECT key, amount FROM {source} WHERE amount IS NULL OR amount <= 0 OR amount >= 1e16 "
        f"OR amount <> round(amount, 4) OR key IS NULL OR length(key) > 200 LIMIT 1")).first()
    if bad is not None:
        raise InvalidArgumentError(f"lines: entry {bad[0]!r} needs a positive amount under 10^16 with at most 4 "
                                   f"places, got {bad[1]}", field="lines", value=bad[1])
    deltas = _projection(debit, credit)
    moved = ", ".join(f"{b} = b.{b} + s.{b}" for b in deltas) or "loan_id = b.loan_id"
    row = session.execute(text(f"""
WITH s AS (SELECT nextval((SELECT pg_get_serial_sequence('ledger_entries', 'id'))::regclass) AS id,
                  loan_id, key COLLATE "C" AS key, amount,
                  encode(sha256(convert_to({_canonical(debit, credit)}, 'UTF8')), 'hex') AS fingerprint
           FROM {source} s
           WHERE NOT (SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE idempotency_key
                                     BETWEEN (SELECT min(key COLLATE "C") FROM {source})
                                         AND (SELECT max(key COLLATE "C") FROM {source})))
              OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.idempotency_key = s.key COLLATE "C")),
entries AS (INSERT INTO ledger_entries (id, idempotency_key, event, loan_id, business_date, fingerprint)
            SELECT id, key, :event, loan_id, :on, fingerprint FROM s ORDER BY key),
postings AS (INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit)
             SELECT s.id, v.account, s.loan_id, v.debit, v.credit FROM s
             CROSS JOIN LATERAL (VALUES (CAST(:debit AS varchar), s.amount, CAST(0 AS numeric)),
                                        (CAST(:credit AS varchar), CAST(0 AS numeric), s.amount))
                   AS v (account, debit, credit)),
s_balances AS (SELECT s.loan_id, {", ".join(f"sum({delta}) AS {b}" for b, delta in deltas.items()) or "0"}
               FROM s GROUP BY s.loan_id ORDER BY s.loan_id),
moved AS (UPDATE loan_balances b SET {moved} FROM s_balances s WHERE b.loan_id = s.loan_id RETURNING b.loan_id),
added AS (INSERT INTO loan_balances (loan_id, {", ".join(LOAN_BUCKETS)})
          SELECT s.loan_id, {", ".join(f"s.{b}" if b in deltas else "0" for b in LOAN_BUCKETS)}
          FROM s_balances s WHERE NOT EXISTS (SELECT 1 FROM moved m WHERE m.loan_id = s.loan_id)
          ON CONFLICT (loan_id) DO UPDATE SET {ADD_EXCLUDED})
SELECT (SELECT count(*) FROM {source}), (SELECT count(*) FROM s)
"""), params).one()
    wanted, inserted = row
    if inserted < wanted:
        _check_skipped(session, source, params, debit, credit)
    return PairsResult(int(wanted), int(inserted))


def _check_skipped(session: Session, source: str, params: dict[str, object], debit: str, credit: str) -> None:
    """Raise if a key of ``source`` that had posted before posted something else."""
    clash = session.execute(text(f"""
SELECT s.key FROM {source} s JOIN ledger_entries e ON e.idempotency_key = s.key
WHERE e.fingerprint <> encode(sha256(convert_to({_canonical(debit, credit)}, 'UTF8')), 'hex') LIMIT 1
"""), params).scalar()
    if clash is not None:
        raise IdempotencyConflictError(
            f"key: {clash!r} already posted a different entry (event, loan, date or lines differ)",
            field="key", value=clash)
