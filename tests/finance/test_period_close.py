"""Closing a month: maker-checker, nothing posts inside it (the application and PostgreSQL refuse), reopening."""

from __future__ import annotations

from datetime import date

import pytest
from servicing.helpers import book, seed_calendar
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core.backoffice.audit import AuditEvent
from core.backoffice.users import FourEyesError, PermissionDeniedError, create_user
from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from core.errors import InvalidArgumentError
from core.finance.period_close import PeriodStateError, decide_period_change, request_close, request_reopen
from core.finance.provision_posting import book_provision
from core.ledger import Line, post
from core.ledger import accounts as acc
from core.ledger.periods import PeriodClosedError
from core.loans.context import ServicingDateError
from core.loans.repayment import repay

JANUARY_END = date(2026, 1, 31)


def a_yuan_of_interest(loan_id: int) -> list[Line]:
    return [Line.dr(acc.INTEREST_RECEIVABLE, "1.00", loan_id), Line.cr(acc.INTEREST_INCOME, "1.00", loan_id)]


@pytest.fixture
def people(books):
    made = {name: create_user(books, username=name, password="long enough pw", roles=[role])
            for name, role in (("wang", "finance"), ("zhao", "finance"), ("qian", "operations"))}
    books.commit()
    return made


@pytest.fixture
def closed(books, people):
    loan = book(books, start=date(2026, 1, 5), key="jan-loan")
    books.commit()
    run_eod(books, JANUARY_END)
    change = request_close(books, maker=people["wang"], month="2026-01", reason="January books done")
    with pytest.raises(FourEyesError):
        decide_period_change(books, change, checker=people["wang"], approve=True)
    decide_period_change(books, change, checker=people["zhao"], approve=True)
    books.commit()
    return loan


def test_a_month_closes_only_when_its_days_are_closed_and_by_a_finance_user(books, people):
    with pytest.raises(PeriodStateError) as early:
        request_close(books, maker=people["wang"], month="2026-01")
    assert early.value.field == "month"
    run_eod(books, JANUARY_END)
    with pytest.raises(PermissionDeniedError):
        request_close(books, maker=people["qian"], month="2026-01")
    with pytest.raises(InvalidArgumentError) as bad:
        request_close(books, maker=people["wang"], month="2026-13")
    assert bad.value.field == "month"


def test_nothing_posts_inside_a_closed_month_and_a_correction_posts_in_the_open_one(books, closed):
    with pytest.raises(PeriodClosedError) as refused:
        post(books, key="late-fix", event="manual", business_date=date(2026, 1, 20),
             lines=a_yuan_of_interest(closed.id))
    assert refused.value.field == "business_date" and "closed accounting period 2026-01" in str(refused.value)
    books.rollback()
    post(books, key="late-fix", event="manual", business_date=date(2026, 2, 1),
         lines=a_yuan_of_interest(closed.id))
    with pytest.raises(PeriodClosedError):
        book_provision(books, date(2026, 1, 31))
    books.rollback()
    with pytest.raises(ServicingDateError) as backdated:
        repay(books, loan_id=closed.id, amount="100.00", on=date(2026, 1, 20), today=date(2026, 2, 1),
              channel="sandbox_bank", key="backdated", actor="tests")
    assert backdated.value.field == "paid_on"


def test_reopening_needs_a_reason_and_a_second_person_and_is_audited(books, people, closed):
    with pytest.raises(InvalidArgumentError) as no_reason:
        request_reopen(books, maker=people["zhao"], month="2026-01", reason=" ")
    assert no_reason.value.field == "reason"
    change = request_reopen(books, maker=people["zhao"], month="2026-01", reason="auditor's adjustment")
    with pytest.raises(FourEyesError):
        decide_period_change(books, change, checker=people["zhao"], approve=True)
    decide_period_change(books, change, checker=people["wang"], approve=True)
    post(books, key="audit-adj", event="manual", business_date=date(2026, 1, 20),
         lines=a_yuan_of_interest(closed.id))
    books.commit()
    actions = [(e.action, e.actor) for e in books.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "accounting_period").order_by(AuditEvent.id))]
    assert actions == [("period_close.request", "wang"), ("period_close.approved", "zhao"), ("period.close", "zhao"),
                       ("period_reopen.request", "zhao"), ("period_reopen.approved", "wang"),
                       ("period.reopen", "wang")]


@pytest.mark.postgres
def test_postgresql_refuses_a_raw_insert_dated_in_a_closed_month(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        finance = [create_user(session, username=name, password="long enough pw", roles=["finance"])
                   for name in ("wang", "zhao")]
        book(session, start=date(2026, 1, 5), key="jan-loan")
        run_eod(session, JANUARY_END)
        decide_period_change(session, request_close(session, maker=finance[0], month="2026-01"),
                             checker=finance[1], approve=True)
        session.commit()
        with pytest.raises(IntegrityError) as refused:
            session.execute(text("INSERT INTO ledger_entries (idempotency_key, event, business_date, fingerprint) "
                                 "VALUES ('raw-sql', 'manual', DATE '2026-01-15', 'x')"))
        assert "ledger entry raw-sql is dated 2026-01-15, inside the closed accounting period 2026-01-01 to " \
               "2026-01-31" in str(refused.value)
        session.rollback()
        session.execute(text("INSERT INTO ledger_entries (idempotency_key, event, business_date, fingerprint) "
                             "VALUES ('raw-sql', 'manual', DATE '2026-02-01', 'x')"))  # the open month passes
        session.rollback()
    engine.dispose()
