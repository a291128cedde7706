"""The journal tables and the per-loan balance projection.

A :class:`JournalEntry` is one business event (a disbursement, a repayment, a day's accrual) identified by
its idempotency key; its :class:`Posting` rows carry separate, non-negative debit and credit columns, one
of them zero. Both are facts: the ORM refuses to update or delete them (and PostgreSQL refuses it too,
with a statement trigger), and the only correction is a reversing entry. :class:`LoanBalance` is a
projection of the per-loan accounts for fast reads; the journal is the truth and the projection can be
rebuilt from it (:mod:`core.ledger.projection`).

The balance invariant is held three times: by :func:`core.ledger.post` before anything is written, by a
``before_flush`` guard for entries built through the ORM, and in PostgreSQL by a deferred constraint
trigger that sums each touched entry's postings at commit. The trigger is queued per posting row, but the
first row of a transaction checks every entry the transaction touched in a few set-based statements and
the other rows only compare their id with the range it checked, so a batch of a million lines costs a few
statements, not one query per entry. The same check holds the journal's references on PostgreSQL (each
line's entry exists, and so do its entry's loan and the entry it reverses), which SQLite holds with foreign keys.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, relationship

from core.db.base import Amount, Base, byte_ordered, keep_pages_free, only_on
from core.ledger.errors import ImmutableLedgerError, UnbalancedEntryError

_ID = BigInteger().with_variant(Integer(), "sqlite")


#: On PostgreSQL the journal's references (an entry's loan, a posting's entry) are checked at commit by the
#: balance trigger, for all of a transaction's lines in one statement, instead of by a foreign key's query
#: per inserted row (30% of the end-of-day posting's database time); SQLite keeps the keys.
REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON = "sqlite"
#: the rule that an entry is reversed once: a unique constraint on SQLite, a partial unique index on PostgreSQL
REVERSAL_ONCE, REVERSAL_ONCE_INDEX = "uq_ledger_entries_reverses_entry_id", "uq_ledger_entries_reversals"


class JournalEntry(Base):
    """One business event's entry; ``idempotency_key`` is unique, so each event posts once."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        only_on(ForeignKeyConstraint(["loan_id"], ["loans.id"]), REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON),
        only_on(ForeignKeyConstraint(["reverses_entry_id"], ["ledger_entries.id"]),
                REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON),
        # an entry is reversed at most once; on PostgreSQL the index holds only the reversals (an index entry for
        # every entry's NULL cost each posting its search and its write), SQLite keeps its unique constraint
        only_on(Index(REVERSAL_ONCE_INDEX, "reverses_entry_id", unique=True,
                      postgresql_where=text("reverses_entry_id IS NOT NULL")), "postgresql"),
        only_on(UniqueConstraint("reverses_entry_id", name=REVERSAL_ONCE), "sqlite"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(byte_ordered(200), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    loan_id: Mapped[int | None] = mapped_column(Integer, index=True)
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reverses_entry_id: Mapped[int | None] = mapped_column(_ID)
    fingerprint: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str | None] = mapped_column(String(200))

    postings: Mapped[list[Posting]] = relationship(back_populates="entry", order_by="Posting.id")


#: the partial index of the loan-loss allowance's postings (account 1304, core.ledger.accounts.LOAN_LOSS_ALLOWANCE)
ALLOWANCE_INDEX, ALLOWANCE_LINES = "ix_ledger_postings_allowance", "account = '1304'"

_NUM_DEBIT = "CAST(debit AS NUMERIC)"
_NUM_CREDIT = "CAST(credit AS NUMERIC)"


class Posting(Base):
    """One line of an entry: ``debit`` or ``credit`` (the other is zero) on ``account``, maybe for a loan."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint(f"{_NUM_DEBIT} >= 0 AND {_NUM_CREDIT} >= 0", name="non_negative"),
        CheckConstraint(f"{_NUM_DEBIT} = 0 OR {_NUM_CREDIT} = 0", name="one_side"),
        CheckConstraint(f"{_NUM_DEBIT} + {_NUM_CREDIT} > 0", name="not_empty"),
        Index("ix_ledger_postings_loan_account", "loan_id", "account"),
        # the loan-loss allowance's few lines (provisions, write-offs, recoveries), read whole at each provision run
        Index(ALLOWANCE_INDEX, "entry_id", postgresql_where=text(ALLOWANCE_LINES), sqlite_where=text(ALLOWANCE_LINES)),
        only_on(ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"]), REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    entry_id: Mapped[int] = mapped_column(_ID, index=True)
    account: Mapped[str] = mapped_column(String(60))
    loan_id: Mapped[int | None] = mapped_column(Integer)
    debit: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")


class PostingCheck(Base):
    """A balance check waiting for the commit (PostgreSQL): the ids of the postings one statement inserted.

    A statement trigger on ``ledger_postings`` notes each inserting statement's first and last posting id
    here; the deferred constraint trigger on this table checks them at commit and deletes the row, so the
    table is empty outside a transaction. One row per statement, where a row trigger on the postings
    queued (and at commit re-read) every posting. SQLite checks in Python and leaves it empty.
    """

    __tablename__ = "ledger_posting_checks"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    first_id: Mapped[int] = mapped_column(_ID)
    last_id: Mapped[int] = mapped_column(_ID)


class LoanBalance(Base):
    """The projection of one loan's per-loan accounts, kept by every post in the same transaction.

    Receivables are debit minus credit; ``suspense`` (money held for the borrower) is credit minus debit.
    """

    __tablename__ = "loan_balances"

    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    interest: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    fee: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    penalty: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    suspense: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))


#: every open loan's balance row is rewritten by each end-of-day, all of a page's rows in one transaction:
#: half of each page free keeps every one of those updates HOT
BALANCE_FILLFACTOR = 50
keep_pages_free(LoanBalance.__table__, BALANCE_FILLFACTOR)  # type: ignore[arg-type]


def _refuse_change(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    raise ImmutableLedgerError(
        f"{type(target).__name__} {getattr(target, 'id', None)}: ledger facts are immutable; post a reversing entry"
    )


for _model in (JournalEntry, Posting):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)


@event.listens_for(Session, "before_flush")
def _check_new_entries(session: Session, _context: Any, _instances: Any) -> None:
    """Entries built through the ORM must balance, and postings may only join an entry being created."""
    new = session.new
    for obj in new:
        if isinstance(obj, Posting) and (obj.entry is None or obj.entry not in new):
            raise ImmutableLedgerError(f"posting: a line may only be added with its new entry (entry {obj.entry_id})",
                                       field="posting")
        if isinstance(obj, JournalEntry):
            residual = sum((p.debit or Decimal(0)) - (p.credit or Decimal(0)) for p in obj.postings)
            if residual or not obj.postings:
                raise UnbalancedEntryError(obj.idempotency_key, Decimal(residual))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: Any) -> None:
    if state.is_update or state.is_delete:
        tables = {getattr(m, "local_table", None) for m in state.all_mappers}
        tables.add(getattr(state.statement, "table", None))
        if tables & {JournalEntry.__table__, Posting.__table__}:
            raise ImmutableLedgerError("ledger facts are immutable: bulk UPDATE/DELETE refused; post reversing entries")


_BALANCE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    last_id bigint;
    entry_ids bigint[];
    loan_ids integer[];
    reversed_ids bigint[];
    matched bigint;
    checked text := current_setting('loanfactory.ledger_checked', true);
    first_id bigint;
    noted_last bigint;
BEGIN
    -- NEW is a ledger_posting_checks row: the first and last posting id one statement inserted (or, on a
    -- database at revision 0006 or before, a posting). Rows are queued in insertion order, so the first
    -- queued row of a transaction has its smallest posting id. That row checks, set-based, every entry
    -- with a posting from its first id to the largest id there is now (each such entry's postings summed
    -- whole, the entry and its loan found), and remembers the range in a transaction-local setting; the
    -- queued rows inside the range skip. A row outside it (a statement after a SET CONSTRAINTS ..
    -- IMMEDIATE, or with explicit lower ids) checks again from its own first id.
    IF TG_TABLE_NAME = 'ledger_posting_checks' THEN
        first_id := NEW.first_id;
        noted_last := NEW.last_id;
        DELETE FROM ledger_posting_checks WHERE id = NEW.id;
    ELSE
        first_id := NEW.id;
        noted_last := NEW.id;
    END IF;
    IF checked LIKE '%:%' AND first_id >= split_part(checked, ':', 1)::bigint
                          AND noted_last <= split_part(checked, ':', 2)::bigint THEN
        RETURN NULL;
    END IF;
    SELECT max(id) INTO last_id FROM ledger_postings WHERE id >= first_id;
    SELECT array_agg(DISTINCT entry_id) INTO entry_ids FROM ledger_postings WHERE id BETWEEN first_id AND last_id;
    SELECT t.entry_id, s.residual INTO bad
        FROM unnest(entry_ids) AS t (entry_id)
        CROSS JOIN LATERAL (SELECT COALESCE(SUM(debit) - SUM(credit), 0) AS residual
                            FROM ledger_postings p WHERE p.entry_id = t.entry_id) AS s
        WHERE s.residual <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not balance: debits - credits = %', bad.entry_id, bad.residual
            USING ERRCODE = 'check_violation';
    END IF;
    -- the references a foreign key holds on SQLite: each line's entry exists, and so do its entry's loan and
    -- the entry it reverses; counted with one sorted index probe per id (= ANY), not a subquery per entry
    SELECT count(*), array_agg(DISTINCT loan_id) FILTER (WHERE loan_id IS NOT NULL),
           array_agg(reverses_entry_id) FILTER (WHERE reverses_entry_id IS NOT NULL)
        INTO matched, loan_ids, reversed_ids
        FROM ledger_entries WHERE id = ANY(entry_ids);
    IF matched <> cardinality(entry_ids) THEN
        RAISE EXCEPTION 'ledger postings name entry %, which does not exist',
            (SELECT min(t.id) FROM unnest(entry_ids) AS t (id)
             WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = t.id))
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF (SELECT count(*) FROM loans WHERE id = ANY(loan_ids)) <> coalesce(cardinality(loan_ids), 0)
       OR (SELECT count(*) FROM ledger_entries WHERE id = ANY(reversed_ids)) <> coalesce(cardinality(reversed_ids), 0)
    THEN
        SELECT e.id, CASE WHEN l.id IS NULL AND e.loan_id IS NOT NULL THEN 'names loan ' || e.loan_id
                          ELSE 'reverses entry ' || e.reverses_entry_id END AS what INTO bad
            FROM ledger_entries e LEFT JOIN loans l ON l.id = e.loan_id
            LEFT JOIN ledger_entries r ON r.id = e.reverses_entry_id
            WHERE e.id = ANY(entry_ids) AND ((e.loan_id IS NOT NULL AND l.id IS NULL)
                                             OR (e.reverses_entry_id IS NOT NULL AND r.id IS NULL))
            LIMIT 1;
        RAISE EXCEPTION 'ledger entry % %, which does not exist', bad.id, bad.what
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM set_config('loanfactory.ledger_checked', first_id::text || ':' || last_id::text, true);
    RETURN NULL;
END $$
"""

_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger facts are immutable: % on % refused; post a reversing entry', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'object_not_in_prerequisite_state';
END $$
"""

_ENTRIES_IMMUTABLE = """
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
"""

_NOTE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_note_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_posting_checks (first_id, last_id)
        SELECT min(id), max(id) FROM inserted HAVING count(*) > 0;
    RETURN NULL;
END $$
"""

_POSTINGS_NOTED = """
CREATE TRIGGER ledger_postings_noted AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_note_postings()
"""

_CHECKS_BALANCED = """
CREATE CONSTRAINT TRIGGER ledger_posting_checks_balanced AFTER INSERT ON ledger_posting_checks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()
"""

_POSTINGS_IMMUTABLE = """
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
"""

#: The PostgreSQL guards of the journal, in order. ``create_all`` installs them; autogenerated migrations do
#: not see triggers, so a migration creating the ledger tables runs ``op.execute(sql)`` for each of them.
POSTGRESQL_LEDGER_DDL = (_BALANCE_FUNCTION, _CHECKS_BALANCED, _REFUSE_FUNCTION, _ENTRIES_IMMUTABLE, _NOTE_FUNCTION,
                         _POSTINGS_NOTED, _POSTINGS_IMMUTABLE)


def _install(*statements: str) -> Any:
    # DDL() formats its text with %, so the RAISE placeholders are doubled here
    ddl = DDL(";\n".join(statements).replace("%", "%%"))  # type: ignore[no-untyped-call]
    return ddl.execute_if(dialect="postgresql")


#: the balance-check function alone, for a migration that changes it on a database made earlier
BALANCE_FUNCTION_DDL = _install(_BALANCE_FUNCTION)

#: the statement trigger that notes inserted postings, for the migration that replaced the row trigger
NOTE_POSTINGS_DDL = _install(_NOTE_FUNCTION, _POSTINGS_NOTED)

event.listen(PostingCheck.__table__, "after_create", _install(_BALANCE_FUNCTION, _CHECKS_BALANCED))
event.listen(JournalEntry.__table__, "after_create", _install(_REFUSE_FUNCTION, _ENTRIES_IMMUTABLE))
event.listen(Posting.__table__, "after_create", _install(_NOTE_FUNCTION, _POSTINGS_NOTED, _POSTINGS_IMMUTABLE))
