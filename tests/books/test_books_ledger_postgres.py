"""PostgreSQL's own guards: the deferred balance trigger, immutable rows, one entry under concurrent posts."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from books.factories import add_customer, add_loan
from core.db.base import Base, make_engine, make_session_factory
from core.ledger import (
    JournalEntry,
    Line,
    LoanBalances,
    NewEntry,
    Posting,
    ReversalError,
    cash_clearing,
    compare_projection,
    loan_balances,
    post,
    post_many,
    reverse,
)
from core.ledger import accounts as acc

pytestmark = pytest.mark.postgres
BANK = cash_clearing("sandbox_bank")


@pytest.fixture
def pg(postgres_url):
    """An engine and session factory on a fresh PostgreSQL database, a loan of 12,000.00 disbursed."""
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        loan = add_loan(session, add_customer(session))
        post(session, key="disbursement:1", event="disbursement", business_date=date(2026, 1, 15), loan_id=loan.id,
             lines=[Line.dr(acc.PRINCIPAL_RECEIVABLE, "12000.00"), Line.cr(BANK, "12000.00")])
        session.commit()
    yield engine, sessions, loan.id
    engine.dispose()


def test_the_deferred_trigger_refuses_an_unbalanced_entry_written_in_raw_sql(pg):
    engine, _, loan_id = pg
    with pytest.raises(DBAPIError, match="does not balance: debits - credits = 5"), engine.begin() as conn:
        entry_id = conn.execute(text(
            "INSERT INTO ledger_entries (idempotency_key, event, loan_id, business_date, fingerprint) "
            "VALUES ('raw', 'fee', :loan, DATE '2026-02-01', '-') RETURNING id"), {"loan": loan_id}).scalar_one()
        conn.execute(text("INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit) "
                          "VALUES (:e, '1133', :loan, 15, 0), (:e, '6021', :loan, 0, 10)"),
                     {"e": entry_id, "loan": loan_id})
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ledger_entries")) == 1


def test_the_trigger_also_catches_a_line_added_to_an_old_entry(pg):
    engine, sessions, loan_id = pg
    add_line = text("INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit) "
                    "SELECT MAX(id), '1303', :loan, 1, 0 FROM ledger_entries")
    with pytest.raises(DBAPIError, match="does not balance"), engine.begin() as conn:
        conn.execute(add_line, {"loan": loan_id})
    # ... and one added after the entry was already checked in the same transaction
    with pytest.raises(DBAPIError, match="does not balance"), sessions() as session:
        post(session, key="fee:1", event="fee", business_date=date(2026, 2, 1), loan_id=loan_id,
             lines=[Line.dr(acc.FEE_RECEIVABLE, "30.00"), Line.cr(acc.FEE_INCOME, "30.00")])
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        session.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        session.execute(add_line, {"loan": loan_id})
        session.commit()


def test_one_check_covers_a_transactions_entries_and_a_line_with_a_lower_id_is_checked_too(pg):
    """The first queued posting checks every entry from its id on in one statement; a posting written
    later with an explicit lower id falls outside that range and is checked by itself."""
    engine, _, loan_id = pg
    entry = text("INSERT INTO ledger_entries (idempotency_key, event, loan_id, business_date, fingerprint) "
                 "VALUES (:key, 'fee', :loan, DATE '2026-02-01', '-') RETURNING id")
    with engine.begin() as conn:  # 200 balanced entries in one transaction commit
        for k in range(200):
            entry_id = conn.execute(entry, {"key": f"ok-{k}", "loan": loan_id}).scalar_one()
            conn.execute(text("INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit) "
                              "VALUES (:e, '1133', :loan, 1, 0), (:e, '6021', :loan, 0, 1)"),
                         {"e": entry_id, "loan": loan_id})
    with pytest.raises(DBAPIError, match="does not balance: debits - credits = 2"), engine.begin() as conn:
        entry_id = conn.execute(entry, {"key": "late", "loan": loan_id}).scalar_one()
        conn.execute(text("INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit) "
                          "VALUES (:e, '1133', :loan, 3, 0), (:e, '6021', :loan, 0, 3)"),
                     {"e": entry_id, "loan": loan_id})
        bad = conn.execute(entry, {"key": "bad", "loan": loan_id}).scalar_one()
        conn.execute(text("INSERT INTO ledger_postings (id, entry_id, account, loan_id, debit, credit) "
                          "VALUES (-1, :e, '1133', :loan, 2, 0)"), {"e": bad, "loan": loan_id})
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ledger_entries")) == 201


def test_raw_updates_and_deletes_of_ledger_facts_are_refused(pg):
    engine, _, _ = pg
    for statement in ("UPDATE ledger_postings SET debit = debit", "DELETE FROM ledger_postings",
                      "UPDATE ledger_entries SET memo = 'x'", "DELETE FROM ledger_entries"):
        with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
            conn.execute(text(statement))


def test_twenty_threads_posting_one_repayment_key_make_one_entry(pg):
    """20 sessions post the same 1,000.00 repayment at once; principal falls once, 12,000 -> 11,000."""
    _engine, sessions, loan_id = pg
    start = threading.Barrier(20)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with sessions() as session:
                start.wait()
                entry = post(session, key="repayment:sandbox_bank:PAY-1", event="repayment",
                             business_date=date(2026, 2, 15), loan_id=loan_id,
                             lines=[Line.dr(BANK, "1000.00"), Line.cr(acc.PRINCIPAL_RECEIVABLE, "1000.00")])
                session.commit()
                ids.append(entry.id)
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 20 and len(set(ids)) == 1
    with sessions() as session:
        key = "repayment:sandbox_bank:PAY-1"
        assert session.scalar(select(func.count()).select_from(JournalEntry)
                              .where(JournalEntry.idempotency_key == key)) == 1
        assert session.scalar(select(func.count()).select_from(Posting).where(Posting.entry_id == ids[0])) == 2
        assert loan_balances(session, loan_id) == LoanBalances(principal=Decimal("11000.00"))
        assert compare_projection(session) == []


def test_concurrent_posts_to_one_loan_keep_the_projection_exact(pg):
    """20 different repayments of 100.00 at once: the projection's upsert adds each exactly once."""
    _engine, sessions, loan_id = pg
    start = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with sessions() as session:
                start.wait()
                post(session, key=f"repayment:sandbox_bank:PAY-{n}", event="repayment",
                     business_date=date(2026, 2, 15), loan_id=loan_id,
                     lines=[Line.dr(BANK, "100.00"), Line.cr(acc.PRINCIPAL_RECEIVABLE, "100.00")])
                session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        assert loan_balances(session, loan_id).principal == Decimal("10000.00")
        assert compare_projection(session) == []


def _race(count, action):
    """Run ``action(n)`` in ``count`` threads released together; returns (results, errors)."""
    start = threading.Barrier(count)
    results, errors = [], []

    def worker(n: int) -> None:
        try:
            start.wait()
            results.append(action(n))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_reversals_of_one_entry_under_different_keys_let_one_win(pg):
    _, sessions, loan_id = pg

    def reverse_it(n: int) -> int:
        with sessions() as session:
            mirror = reverse(session, session.scalar(select(JournalEntry.id)), key=f"reversal:{n}")
            session.commit()
            return mirror.id

    results, errors = _race(8, reverse_it)
    assert len(results) == 1 and len(errors) == 7
    assert all(isinstance(error, ReversalError) for error in errors)
    with sessions() as session:
        assert loan_balances(session, loan_id) == LoanBalances()


def test_two_concurrent_batches_of_the_same_accruals_post_them_once(pg):
    """Two workers post the same 300 daily accruals of 0.5000: interest receivable ends at 150.0000."""
    _, sessions, loan_id = pg
    batch = [NewEntry(f"accrual:{loan_id}:{day}", "accrual", date(2026, 2, 1), (
        Line.dr(acc.INTEREST_RECEIVABLE, "0.5000"), Line.cr(acc.INTEREST_INCOME, "0.5000")), loan_id)
        for day in range(300)]

    def post_batch(_n: int) -> tuple[int, int]:
        with sessions() as session:
            result = post_many(session, batch)
            session.commit()
            return result.inserted, result.skipped

    results, errors = _race(2, post_batch)
    assert errors == []
    assert sorted(results) == [(0, 300), (300, 0)]
    with sessions() as session:
        assert loan_balances(session, loan_id).interest == Decimal("150.0000")
        assert compare_projection(session) == []
