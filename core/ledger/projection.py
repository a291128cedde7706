"""Per-loan balances: derived from the journal, and kept in the ``loan_balances`` projection.

:func:`loan_balances` reads a loan's balances from its postings (the truth). :func:`apply_deltas` is how
:func:`core.ledger.post` and :func:`core.ledger.post_many` keep the projection in the same transaction:
on PostgreSQL one ``INSERT .. ON CONFLICT DO UPDATE SET x = x + delta`` per batch, atomic per row under
concurrent posts; on SQLite, where amounts are stored as text and SQL arithmetic would go through float,
a read-modify-write in Python (SQLite serialises writers, and the caller already holds the write lock).
:func:`rebuild_projection` recomputes every row from the journal; :func:`compare_projection` lists where
the two disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.ledger import pg_bulk
from core.ledger.accounts import BUCKET_OF, CHART, LOAN_BUCKETS, Side
from core.ledger.models import LoanBalance, Posting

ZERO = Decimal(0)
_CHUNK = 500
_BALANCES: Table = LoanBalance.__table__  # type: ignore[assignment]
_SIGN = {code: (1 if CHART[code].normal is Side.DEBIT else -1) for code in BUCKET_OF}


@dataclass(frozen=True)
class LoanBalances:
    """A loan's receivables (principal, interest, fee, penalty) and the suspense held for the borrower."""

    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO
    suspense: Decimal = ZERO

    @property
    def receivable(self) -> Decimal:
        """Everything the borrower owes."""
        return self.principal + self.interest + self.fee + self.penalty

    def as_dict(self) -> dict[str, Decimal]:
        return {bucket: getattr(self, bucket) for bucket in LOAN_BUCKETS}


@dataclass(frozen=True)
class ProjectionDifference:
    """One disagreement between the journal and the projection for a loan's bucket."""

    loan_id: int
    bucket: str
    journal: Decimal
    projection: Decimal


Deltas = dict[int, dict[str, Decimal]]


def line_deltas(deltas: Deltas, account: str, loan_id: int | None, debit: Decimal, credit: Decimal) -> None:
    """Add one posting's effect on its loan's buckets to ``deltas`` (no effect for other accounts)."""
    bucket = BUCKET_OF.get(account)
    if bucket is None or loan_id is None:
        return
    row = deltas.setdefault(loan_id, {})
    row[bucket] = row.get(bucket, ZERO) + _SIGN[account] * (debit - credit)


def _journal_sums(session: Session, loan_ids: Iterable[int] | None = None) -> Deltas:
    """Per loan, per bucket, the balances computed from the postings."""
    statement: Select[tuple[int | None, str, Decimal, Decimal]]
    sums: Deltas = defaultdict(dict)
    codes = list(BUCKET_OF)
    if _is_postgresql(session):
        statement = (select(Posting.loan_id, Posting.account, func.sum(Posting.debit), func.sum(Posting.credit))
                     .where(Posting.account.in_(codes), Posting.loan_id.is_not(None))
                     .group_by(Posting.loan_id, Posting.account))
    else:
        statement = (select(Posting.loan_id, Posting.account, Posting.debit, Posting.credit)
                     .where(Posting.account.in_(codes), Posting.loan_id.is_not(None)))
    if loan_ids is not None:
        statement = statement.where(Posting.loan_id.in_(list(loan_ids)))
    for loan_id, account, debit, credit in session.execute(statement):
        line_deltas(sums, account, loan_id, debit, credit)
    return sums


def loan_balances(session: Session, loan_id: int) -> LoanBalances:
    """The balances of ``loan_id`` summed from the journal (not from the projection)."""
    return LoanBalances(**_journal_sums(session, [loan_id]).get(loan_id, {}))


def projected_balances(session: Session, loan_id: int) -> LoanBalances:
    """The balances of ``loan_id`` as the ``loan_balances`` projection holds them (zero when absent)."""
    row = session.execute(select(_BALANCES).where(_BALANCES.c.loan_id == loan_id)).first()
    if row is None:
        return LoanBalances()
    return LoanBalances(**{bucket: getattr(row, bucket) for bucket in LOAN_BUCKETS})


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def apply_deltas(session: Session, deltas: Mapping[int, Mapping[str, Decimal]]) -> None:
    """Add ``deltas`` (loan -> bucket -> amount) to the projection, creating missing rows."""
    if not deltas:
        return
    rows = [{"loan_id": loan_id, **{b: changes.get(b, ZERO) for b in LOAN_BUCKETS}}
            for loan_id, changes in sorted(deltas.items())]
    _expire_loaded(session, deltas)
    if _is_postgresql(session):
        pg_bulk.upsert_balances(session, rows)
        return
    for start in range(0, len(rows), _CHUNK):
        _apply_python(session, rows[start:start + _CHUNK])


def _expire_loaded(session: Session, loan_ids: Iterable[int]) -> None:
    """The rows change behind the ORM's back: expire any :class:`LoanBalance` the session has loaded."""
    identities = session.identity_map
    if not len(identities):
        return
    for loan_id in loan_ids:
        loaded = identities.get(identity_key(LoanBalance, (loan_id,)))
        if loaded is not None:
            session.expire(loaded)


def _apply_python(session: Session, rows: list[dict[str, Any]]) -> None:
    table = _BALANCES
    ids = [row["loan_id"] for row in rows]
    current = {r.loan_id: r for r in session.execute(select(table).where(table.c.loan_id.in_(ids)))}
    new, changed = [], []
    for row in rows:
        old = current.get(int(row["loan_id"]))
        if old is None:
            new.append(row)
        else:
            changed.append({"key": row["loan_id"], **{b: getattr(old, b) + row[b] for b in LOAN_BUCKETS}})
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(update(table).where(table.c.loan_id == bindparam("key")), changed)


def rebuild_projection(session: Session) -> int:
    """Replace every projection row by the balances summed from the journal; returns the rows written."""
    session.flush()
    session.execute(delete(_BALANCES))
    if _is_postgresql(session):
        written = pg_bulk.rebuild(session)
    else:
        sums = _journal_sums(session)
        apply_deltas(session, sums)
        written = len(sums)
    session.expire_all()
    return written


def compare_projection(session: Session) -> list[ProjectionDifference]:
    """Every (loan, bucket) where the projection differs from the journal; empty when they agree."""
    session.flush()
    if _is_postgresql(session):
        return [ProjectionDifference(*found) for found in pg_bulk.differences(session)]
    journal = _journal_sums(session)
    projection = {row.loan_id: row for row in session.execute(select(_BALANCES))}
    differences = []
    for loan_id in sorted(set(journal) | set(projection)):
        row = projection.get(loan_id)
        for bucket in LOAN_BUCKETS:
            expected = journal.get(loan_id, {}).get(bucket, ZERO)
            held = getattr(row, bucket) if row is not None else ZERO
            if expected != held:
                differences.append(ProjectionDifference(loan_id, bucket, expected, held))
    return differences
