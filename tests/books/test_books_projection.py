"""The balance projection serves every read and the journal proves it: a read of a loan's balances costs
the same on its first day as after two thousand postings; the compare, over the book or a range of loan
ids, reports a tampered row and the rebuild of the range repairs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from books.factories import (
    accrue_days,
    add_customer,
    add_loan,
    disburse_with_fee,
    postings_of,
    tamper_projection,
    three_loans,
)
from core.db.base import Base, make_engine, make_session_factory
from core.errors import InvalidArgumentError
from core.ledger import (
    LoanBalances,
    LoanRange,
    ProjectionDifference,
    compare_projection,
    journal_balances,
    loan_balances,
    projection_ranges,
    rebuild_projection,
)

D = Decimal


def new_and_old_loans(session: Session) -> tuple[int, int]:
    """A loan on its first day (3 postings) and one with 2,003 (its disbursement and 1,000 accruals)."""
    customer = add_customer(session)
    new, old = add_loan(session, customer).id, add_loan(session, customer).id
    disburse_with_fee(session, new)
    disburse_with_fee(session, old)
    accrue_days(session, old, 1000)
    session.commit()
    assert (postings_of(session, new), postings_of(session, old)) == (3, 2003)
    return new, old


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements sent on the session's engine while the block runs, with their parameters."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- the read -------------------------------------------------------------------------------------------------


def test_a_balances_read_sends_the_same_one_statement_on_day_one_and_after_two_thousand_postings(db_session):
    new, old = new_and_old_loans(db_session)
    with statements(db_session) as day_one:
        fresh = loan_balances(db_session, new)
    with statements(db_session) as day_700:
        aged = loan_balances(db_session, old)
    assert [sql for sql, _ in day_one] == [sql for sql, _ in day_700] and len(day_one) == 1
    assert "ledger_postings" not in day_one[0][0] and "loan_balances" in day_one[0][0]
    assert fresh == journal_balances(db_session, new) == LoanBalances(principal=D("12000.00"))
    assert aged == journal_balances(db_session, old) == LoanBalances(principal=D("12000.00"), interest=D("1450.0000"))


def _rows_touched(session: Session, sent: tuple[str, Any]) -> tuple[int, set[str]]:
    """Rows every node of the statement's plan produced (actual rows x loops), and the tables it read."""
    statement, parameters = sent
    plan = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar_one()
    rows, tables, nodes = 0, set(), [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        rows += int(node["Actual Rows"]) * int(node["Actual Loops"])
        if "Relation Name" in node:
            tables.add(node["Relation Name"])
        nodes += node.get("Plans", [])
    return rows, tables


@pytest.mark.postgres
def test_on_postgresql_the_read_touches_one_projection_row_whatever_the_history(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        new, old = new_and_old_loans(session)
        session.execute(text("ANALYZE"))
        touched = {}
        for loan_id in (new, old):
            with statements(session) as read:
                loan_balances(session, loan_id)
            with statements(session) as proof:
                journal_balances(session, loan_id)
            touched[loan_id] = (_rows_touched(session, read[0]), _rows_touched(session, proof[-1])[0])
        assert touched[new][0] == touched[old][0] == (1, {"loan_balances"})
        assert touched[old][1] >= 1000 > touched[new][1]  # the proof grows with the history; the read does not
    engine.dispose()


# --- the proof ------------------------------------------------------------------------------------------------


def test_a_compare_limited_to_a_range_of_loans_sees_only_that_range(db_session):
    first, second, third = three_loans(db_session)
    tamper_projection(db_session, first, principal=D("1.00"))
    tamper_projection(db_session, third, interest=D("0"))
    assert compare_projection(db_session, LoanRange(second, third)) == [
        ProjectionDifference(third, "interest", D("4.3500"), D("0"))]
    assert [d.loan_id for d in compare_projection(db_session)] == [first, third]
    assert rebuild_projection(db_session, LoanRange(first, first)) == 1
    assert compare_projection(db_session) == [ProjectionDifference(third, "interest", D("4.3500"), D("0"))]
    assert loan_balances(db_session, second) == journal_balances(db_session, second)  # untouched by the range


def test_the_book_is_cut_into_aligned_ranges_of_loan_ids(db_session):
    assert projection_ranges(db_session, 2) == []
    assert three_loans(db_session) == [1, 2, 3]
    assert projection_ranges(db_session, 2) == [LoanRange(1, 2), LoanRange(3, 4)]
    assert projection_ranges(db_session, 2, within=LoanRange(2, 3)) == [LoanRange(2, 2), LoanRange(3, 3)]
    assert projection_ranges(db_session, 50_000) == [LoanRange(1, 50_000)]
    db_session.execute(text("DELETE FROM loan_balances WHERE loan_id = 3"))  # a posting alone still counts
    assert projection_ranges(db_session, 1) == [LoanRange(1, 1), LoanRange(2, 2), LoanRange(3, 3)]


def test_a_range_of_loan_ids_is_read_as_first_dash_last():
    assert LoanRange.parse("1-50000") == LoanRange(1, 50_000)
    assert LoanRange.parse("17") == LoanRange(17, 17)
    for wrong in ("a-b", "0-5", "9-3", "1-2-3"):
        with pytest.raises(InvalidArgumentError):
            LoanRange.parse(wrong)
