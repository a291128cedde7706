"""The end-of-day and servicing take turns on a loan (PostgreSQL): the lock protocol of docs/ledger.md.

A servicing operation locks the loan's ``loan_balances`` row, then its ``loans`` row
(:func:`core.loans.context.locked_loan`); an end-of-day partition locks the balance rows of its range
first, so whichever comes second waits for the first to commit and then works on what it committed. The
quiet loans the SQL path closes keep their ``loans`` rows unlocked (and unwritten).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal as D
from typing import TypeVar

import pytest
from servicing.helpers import book, check_books, seed_calendar
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db.base import Base, make_engine, make_session_factory
from core.eod.partition import close_loans
from core.ledger import loan_balances
from core.loans.context import locked_loan
from core.loans.events import ServicingEvent
from core.loans.repayment import repay

pytestmark = pytest.mark.postgres
DISBURSED, CLOSING = date(2026, 1, 15), date(2026, 1, 16)
T = TypeVar("T")


@pytest.fixture
def factory(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def booked(factory: sessionmaker[Session]) -> int:
    """One 12,000.00 loan at 12% from 01-15 (day 1 of period 1 accrues round(120.00 / 31) = 3.87)."""
    with factory() as session:
        seed_calendar(session)
        loan_id = book(session, start=DISBURSED).id
        session.commit()
    return loan_id


def waiting_for_a_lock(engine: Engine, started: threading.Thread) -> bool:
    """Whether, within 10 s, a backend other than the caller's waits for a lock while ``started`` runs."""
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline and started.is_alive():
            if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND datname = current_database()")):
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


def after_commit_of(first: Session, factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in a session of its own on another thread (committing it), check that it waits for a
    lock ``first`` holds, then commit ``first`` and return what ``work`` returned once it could go on."""
    outcome: list[T | Exception] = []

    def run() -> None:
        with factory() as session:
            try:
                outcome.append(work(session))
                session.commit()
            except Exception as error:  # reported below
                outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    assert waiting_for_a_lock(first.get_bind(), thread), "the second transaction did not wait for the first"
    first.commit()
    thread.join(30)
    [result] = outcome
    assert not isinstance(result, Exception), result
    return result


def test_a_repayment_waits_for_the_partition_that_closes_its_loan_and_then_sees_its_accrual(factory):
    loan_id = booked(factory)
    with factory() as eod:
        assert close_loans(eod, CLOSING, lo=1, hi=1000).step("accrual") == (1, 1)

        def repayment(session: Session) -> D:
            repay(session, loan_id=loan_id, amount="50.00", on=CLOSING, today=CLOSING, channel="sandbox_bank", key="r1",
                  actor="tests")
            return loan_balances(session, loan_id).interest

        assert after_commit_of(eod, factory, repayment) == D("3.87")  # it read the day's accrual
    with factory() as session:
        assert session.scalars(select(ServicingEvent.kind).order_by(ServicingEvent.id)).all() == ["disbursement",
                                                                                       "repayment"]
        check_books(session)


def test_a_partition_waits_for_a_servicing_operation_in_flight_and_closes_the_loan_on_what_it_committed(factory):
    loan_id = booked(factory)
    with factory() as servicing:
        repay(servicing, loan_id=loan_id, amount="50.00", on=CLOSING, today=CLOSING, channel="sandbox_bank", key="r1",
              actor="tests")
        assert loan_balances(servicing, loan_id).suspense == D("50.00")  # nothing due: it waits in suspense
        closed = after_commit_of(servicing, factory, lambda session: close_loans(session, CLOSING, lo=1, hi=1000))
    # the repayment brought the loan to its date (the day's 3.87 accrued under the end-of-day's key), so the
    # partition, seeing it committed, closes the loan (money in suspense: the Python rule) and posts nothing
    assert (closed.loans, closed.entries) == (1, 0)
    with factory() as session:
        balances = loan_balances(session, loan_id)
        assert (balances.interest, balances.suspense) == (D("3.87"), D("50.00"))
        check_books(session)


def test_the_sql_path_locks_a_quiet_loans_balance_row_and_leaves_its_loan_row_alone(factory):
    loan_id = booked(factory)
    with factory() as eod:
        assert close_loans(eod, CLOSING, lo=1, hi=1000).step("accrual") == (1, 1)
        with factory() as other:

            def lock(statement: str) -> None:
                other.execute(text("SET LOCAL lock_timeout = '300ms'"))
                try:
                    other.execute(text(statement), {"id": loan_id})
                finally:
                    other.rollback()

            lock("SELECT id FROM loans WHERE id = :id FOR UPDATE")
            with pytest.raises(OperationalError, match="lock timeout"):
                lock("SELECT loan_id FROM loan_balances WHERE loan_id = :id FOR UPDATE")
            other.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                locked_loan(other, loan_id)  # a servicing operation waits for the partition
            other.rollback()
        eod.rollback()
