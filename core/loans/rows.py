"""Reading loans for end-of-day in large chunks, and writing back what :func:`close_day` changed.

:func:`load_loans` reads, for a range of loan ids (or a list), the open loans with their contract's daily
settings (:class:`~core.loans.contract.DailySettingsReader`), servicing state and suspense balance, and the
installments that matter today (started and not settled), in three queries whatever the number of loans. The
loans read are locked (``FOR UPDATE`` on PostgreSQL) until the chunk commits, so a servicing operation on one
of them waits for the end-of-day (or the end-of-day for it) instead of both posting the same day's accrual.
:func:`write_results` writes every change of a chunk set-based: entries through :func:`core.ledger.post_many`,
installment and loan updates through :func:`core.db.bulk.bulk_update`, state transitions as one multi-row
insert, servicing state as upserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Select, Table, and_, any_, bindparam, exists, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db.bulk import bulk_update
from core.ledger import LoanBalance, post_many
from core.ledger.posting import NewEntry
from core.loans.contract import DailySettingsReader
from core.loans.daily import OPEN_STATES, DayResult, InstallmentRow, LoanRow
from core.loans.events import LoanServicingState
from core.loans.models import Loan, LoanInstallment
from core.loans.nonaccrual import INTEREST, PENALTY, AccrualState, suspended_balances
from core.states import LOAN_STATES, StateTransition

ZERO = Decimal(0)
LOANS = cast(Table, Loan.__table__)
INSTALLMENTS = cast(Table, LoanInstallment.__table__)
TRANSITIONS = cast(Table, StateTransition.__table__)
SERVICING_STATES = cast(Table, LoanServicingState.__table__)

INSTALLMENT_COLUMNS = ("id", "period", "start", "due_date", "principal", "interest", "fee", "penalty",
                       "interest_accrued", "paid_principal", "paid_interest", "paid_fee", "paid_penalty",
                       "waived_penalty", "status", "paid_on", "penalty_carry", "late_fee")
MUTABLE_INSTALLMENT = ("status", "interest_accrued", "penalty", "fee", "late_fee", "waived_penalty", "paid_principal",
                       "paid_interest", "paid_fee", "paid_penalty", "paid_on", "penalty_carry")


def _loan_query(on: date) -> Select[Any]:
    return (select(Loan.id, Loan.terms, Loan.state, Loan.days_past_due, Loan.bucket,
                   Loan.five_tier, Loan.maturity_date, LoanServicingState.penalty_through,
                   LoanServicingState.generation, LoanBalance.suspense, Loan.non_accrual_since,
                   LoanBalance.interest, LoanBalance.penalty, Loan.principal)
            .outerjoin(LoanServicingState, LoanServicingState.loan_id == Loan.id)
            .outerjoin(LoanBalance, LoanBalance.loan_id == Loan.id)
            .where(Loan.state.in_(OPEN_STATES), Loan.disbursed_on < on)
            .order_by(Loan.id)
            .with_for_update(of=Loan))


def load_loans(session: Session, on: date, *, lo: int | None = None, hi: int | None = None,
               loan_ids: Sequence[int] | None = None, limit: int | None = None,
               skip: Table | None = None) -> list[tuple[LoanRow, int, list[InstallmentRow]]]:
    """Open loans disbursed before ``on`` with ids in ``lo..hi`` (the first ``limit`` of them) or in
    ``loan_ids``, each with its replay generation and its started (``start < on``), unsettled installments.

    ``skip`` is a table of loan ids (column ``id``) to leave out of a range, such as the loans the SQL
    path closed (:func:`core.eod.setbased.quiet_table`): neither they nor their installments are read.
    """
    query = _loan_query(on)
    if loan_ids is not None:
        query = query.where(Loan.id.in_(list(loan_ids)))
    else:
        query = query.where(Loan.id.between(lo, hi))
    if skip is not None:
        query = query.where(~exists().where(skip.c.id == Loan.id))
    if limit is not None:
        query = query.limit(limit)
    settings = DailySettingsReader()
    loans: dict[int, tuple[LoanRow, int, list[InstallmentRow]]] = {}
    for (loan_id, terms, state, dpd, bucket_name, tier, maturity, through, generation,
         suspense, since, interest, penalty, principal) in session.execute(query):
        read = settings.read(terms)
        accrual = AccrualState(since, {INTEREST: interest or ZERO, PENALTY: penalty or ZERO})
        row = LoanRow(loan_id, read.annual_rate, read.basis, read.rounding, read.penalty, read.allocation, state, dpd,
                      bucket_name, tier, maturity, through, suspense or ZERO, accrual, principal, read.late_fees)
        loans[loan_id] = (row, generation or 0, [])
    if not loans:
        return []
    flagged = {loan_id: found[0].accrual for loan_id, found in loans.items() if found[0].accrual.since is not None}
    if flagged:
        for loan_id, component, held in suspended_balances(session, list(flagged)):
            flagged[loan_id].suspended[component] = held
    table = INSTALLMENTS
    wanted = [table.c[name] for name in INSTALLMENT_COLUMNS]
    started = and_(table.c.start < on, table.c.status.in_(("pending", "due", "overdue")))
    among = _among(session, table.c.loan_id, list(loans), listed=loan_ids is not None)
    for loan_id, *values in session.execute(select(table.c.loan_id, *wanted).where(among, started)):
        found = loans.get(loan_id)  # a range also holds loans not read (closed, or left to the SQL path)
        if found is not None:
            found[2].append(InstallmentRow(*values))
    return list(loans.values())


def _among(session: Session, column: ColumnElement[int], ids: list[int], *, listed: bool) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (sorted) on PostgreSQL, as one array parameter (an ``IN`` list of thousands
    of parameters costs more to send than the query to run); elsewhere one of ``ids`` when they were
    ``listed`` by the caller, or else in their range (the caller skips the rows of loans it did not read)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("among", ids, type_=ARRAY(Integer)))
    return column.in_(ids) if listed else column.between(ids[0], ids[-1])


def write_results(session: Session, on: date, results: Iterable[tuple[DayResult, list[InstallmentRow]]],
                  *, actor: str = "eod") -> int:
    """Write a chunk's changes; returns the number of journal entries posted."""
    entries: list[NewEntry] = []
    installments: list[dict[str, Any]] = []
    loans: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for result, rows in results:
        entries.extend(result.entries)
        for row in rows:
            if row.changed:
                installments.append({name: getattr(row, name) for name in ("id", *MUTABLE_INSTALLMENT)})
                row.changed.clear()
        if result.loan_changes:
            change = {"id": result.loan_id, **result.loan_changes}
            (closed if "closed_on" in change else loans).append(change)
        if result.transition is not None:
            source, target = result.transition
            LOAN_STATES.check(source, target, result.loan_id)
            transitions.append({"entity_type": LOAN_STATES.entity, "entity_id": result.loan_id,
                                "from_state": source, "to_state": target, "actor": actor, "at": now,
                                "reason": f"end of day {on.isoformat()}"})
        if result.penalty_through is not None:
            states.append({"loan_id": result.loan_id, "penalty_through": result.penalty_through})
    posted = post_many(session, entries).inserted if entries else 0
    bulk_update(session, INSTALLMENTS, installments)
    _update_loans(session, loans)
    _update_loans(session, closed)
    if transitions:
        session.execute(insert(TRANSITIONS), transitions)
    upsert_servicing_states(session, states)
    return posted


def _update_loans(session: Session, changes: list[dict[str, Any]]) -> None:
    """Loan changes grouped by the columns they set (one bulk update per shape)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        shapes.setdefault(tuple(sorted(change)), []).append(change)
    for rows in shapes.values():
        bulk_update(session, LOANS, rows)


_UPSERT_STATES = text("""
INSERT INTO loan_servicing_states (loan_id, penalty_through, generation)
SELECT loan_id, penalty_through, 0 FROM unnest(CAST(:loans AS integer[]), CAST(:dates AS date[]))
    AS s (loan_id, penalty_through)
ON CONFLICT (loan_id) DO UPDATE SET penalty_through = excluded.penalty_through
""")


def upsert_servicing_states(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or update ``loan_servicing_states`` rows (penalty_through) by loan id.

    On PostgreSQL one statement with the rows as two arrays (an ``executemany`` sends a statement per row).
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_UPSERT_STATES, {"loans": [row["loan_id"] for row in rows],
                                         "dates": [row["penalty_through"] for row in rows]})
        return
    table = SERVICING_STATES
    statement = sqlite_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.loan_id],
        set_={"penalty_through": statement.excluded.penalty_through})
    session.execute(statement, [{**row, "generation": 0} for row in rows])
