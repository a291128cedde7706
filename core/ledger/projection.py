"""Per-loan balances: kept in the ``loan_balances`` projection, proven against the journal.

Every read of a loan's balances, :func:`loan_balances`, is one primary-key row of the projection, so it
costs the same on a loan's first day as on its seven-hundredth (summing the loan's postings grows with
its history, about three a day). The projection can serve reads because nothing else writes it:
:func:`apply_deltas` is how :func:`core.ledger.post` and :func:`core.ledger.post_many` keep it in the same
transaction (on PostgreSQL one ``INSERT .. ON CONFLICT DO UPDATE SET x = x + delta`` per batch, atomic per
row under concurrent posts; on SQLite, where amounts are stored as text and SQL arithmetic would go
through float, a read-modify-write in Python: SQLite serialises writers, and the caller already holds the
write lock), and a read inside a posting transaction sees its own posts.

The journal stays the truth, and the sum of a loan's postings is the proof: :func:`journal_balances`
computes it for one loan, :func:`compare_projection` lists every (loan, bucket) where the projection
differs from it (the whole book, or one :class:`LoanRange` of loan ids, so a large book is checked range by
range), and :func:`rebuild_projection` rewrites the projection from it.
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

from core.errors import InvalidArgumentError
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


@dataclass(frozen=True)
class LoanRange:
    """The loan ids ``first..last`` (both included): a part of the book to compare or rebuild."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InvalidArgumentError(f"loan_ids: {self.first}-{self.last} is empty (first after last)",
                                       field="loan_ids", value=(self.first, self.last))

    @property
    def name(self) -> str:
        return f"{self.first}-{self.last}"

    @classmethod
    def parse(cls, text: str) -> LoanRange:
        """``"FIRST-LAST"`` (or one id) as a range.

        Raises:
            InvalidArgumentError: not one or two positive integers, or first after last.
        """
        first, _, last = text.strip().partition("-")
        try:
            bounds = int(first), int(last or first)
        except ValueError:
            raise InvalidArgumentError(f"loan_ids: {text!r} is not FIRST-LAST (e.g. 1-50000)", field="loan_ids",
                                       value=text) from None
        if bounds[0] < 1:
            raise InvalidArgumentError(f"loan_ids: {text!r}: loan ids start at 1", field="loan_ids", value=text)
        return cls(*bounds)


#: the whole book: every loan id PostgreSQL's ``integer`` holds
WHOLE_BOOK = LoanRange(-(2 ** 31), 2 ** 31 - 1)
#: loan ids per range when a check of the whole book goes range by range
DEFAULT_RANGE_SIZE = 50_000

Deltas = dict[int, dict[str, Decimal]]


def line_deltas(deltas: Deltas, account: str, loan_id: int | None, debit: Decimal, credit: Decimal) -> None:
    """Add one posting's effect on its loan's buckets to ``deltas`` (no effect for other accounts)."""
    bucket = BUCKET_OF.get(account)
    if bucket is None or loan_id is None:
        return
    row = deltas.setdefault(loan_id, {})
    row[bucket] = row.get(bucket, ZERO) + _SIGN[account] * (debit - credit)


def _journal_sums(session: Session, loans: LoanRange = WHOLE_BOOK) -> Deltas:
    """Per loan of ``loans``, per bucket, the balances computed from the postings."""
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
    if loans != WHOLE_BOOK:
        statement = statement.where(Posting.loan_id.between(loans.first, loans.last))
    for loan_id, account, debit, credit in session.execute(statement):
        line_deltas(sums, account, loan_id, debit, credit)
    return sums


def loan_balances(session: Session, loan_id: int) -> LoanBalances:
    """The balances of ``loan_id``: its row of the projection (zeros for a loan that never posted).

    One primary-key read whatever the loan's history; inside a transaction that posted to the loan it
    includes those posts (they update the row in the same transaction).
    """
    row = session.execute(select(_BALANCES).where(_BALANCES.c.loan_id == loan_id)).first()
    if row is None:
        return LoanBalances()
    return LoanBalances(**{bucket: getattr(row, bucket) for bucket in LOAN_BUCKETS})


def journal_balances(session: Session, loan_id: int) -> LoanBalances:
    """The proof of :func:`loan_balances`: the balances of ``loan_id`` summed from all of its postings.

    Its cost grows with the loan's history; serve reads with :func:`loan_balances` and use this to check.
    """
    return LoanBalances(**_journal_sums(session, LoanRange(loan_id, loan_id)).get(loan_id, {}))


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


def rebuild_projection(session: Session, loans: LoanRange = WHOLE_BOOK) -> int:
    """Replace the projection rows of ``loans`` (default: every loan) by the balances summed from the
    journal; returns the rows written."""
    session.flush()
    session.execute(delete(_BALANCES).where(_BALANCES.c.loan_id.between(loans.first, loans.last)))
    if _is_postgresql(session):
        written = pg_bulk.rebuild(session, loans.first, loans.last)
    else:
        sums = _journal_sums(session, loans)
        apply_deltas(session, sums)
        written = len(sums)
    session.expire_all()
    return written


def compare_projection(session: Session, loans: LoanRange = WHOLE_BOOK) -> list[ProjectionDifference]:
    """Every (loan, bucket) of ``loans`` (default: every loan) where the projection differs from the
    journal, by loan id; empty when they agree."""
    session.flush()
    if _is_postgresql(session):
        return [ProjectionDifference(*found) for found in pg_bulk.differences(session, loans.first, loans.last)]
    journal = _journal_sums(session, loans)
    projection = {row.loan_id: row for row in session.execute(
        select(_BALANCES).where(_BALANCES.c.loan_id.between(loans.first, loans.last)))}
    differences = []
    for loan_id in sorted(set(journal) | set(projection)):
        row = projection.get(loan_id)
        for bucket in LOAN_BUCKETS:
            expected = journal.get(loan_id, {}).get(bucket, ZERO)
            held = getattr(row, bucket) if row is not None else ZERO
            if expected != held:
                differences.append(ProjectionDifference(loan_id, bucket, expected, held))
    return differences


def projection_ranges(session: Session, size: int = DEFAULT_RANGE_SIZE,
                      within: LoanRange = WHOLE_BOOK) -> list[LoanRange]:
    """The blocks of ``size`` loan ids (aligned on multiples of ``size``, cut to ``within``) from the
    least to the greatest loan of ``within`` that has a projection row or a posting.

    A check of the whole book goes through them one by one (on PostgreSQL one statement each, over the
    postings' index by loan), so it can show progress, end its transaction between them and be shared
    between workers.

    Raises:
        InvalidArgumentError: ``size`` is less than 1.
    """
    if size < 1:
        raise InvalidArgumentError(f"size: a range holds at least one loan id, got {size}", field="size", value=size)
    held = session.execute(select(func.min(_BALANCES.c.loan_id), func.max(_BALANCES.c.loan_id))
                           .where(_BALANCES.c.loan_id.between(within.first, within.last))).one()
    posted = session.execute(select(func.min(Posting.loan_id), func.max(Posting.loan_id))
                             .where(Posting.loan_id.between(within.first, within.last))).one()
    bounds = [bound for bound in (*held, *posted) if bound is not None]
    if not bounds:
        return []
    blocks = range((min(bounds) - 1) // size, (max(bounds) - 1) // size + 1)
    return [LoanRange(max(k * size + 1, within.first), min((k + 1) * size, within.last)) for k in blocks]
