"""Borrower messages: only between 08:00 and 21:00 Shanghai time (deferred otherwise), at most the daily cap
to one borrower (the rest the next day), each logged per loan; a provider that fails never blocks a debit's
repayment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.debits.models import aware
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.messages.models import LoanMessage
from core.messages.planning import debit_answered, plan_day
from core.messages.sending import send_due
from debits.debit_helpers import delivered, due_run, instructions, moment, seed_years, settle_and_call_back
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.notifications.models import OutboxMessage
from tests.api.conftest import Channel, application_body, book_loan, new_key, selling

FIRST_DUE = date(2026, 4, 2)


def _booked(app: Flask) -> int:
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    loan_id = book_loan(app, Channel(app.test_client(), new_key(app)), application_body("12000.00", 12))
    delivered(app)
    return loan_id


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/messages.sqlite3")


def _log(app: Flask, loan_id: int) -> list[LoanMessage]:
    with app.app_context():
        session = get_db(app).session()
        rows = list(session.scalars(select(LoanMessage).where(LoanMessage.loan_id == loan_id).order_by(LoanMessage.id)))
        session.expunge_all()
        return rows


def _send(app: Flask, at):
    with app.app_context():
        session = get_db(app).session()
        report = send_due(session, get_plugins(app), now=at)
        session.commit()
        return report


def test_a_message_planned_at_night_waits_for_eight_in_the_morning(app):
    loan_id = _booked(app)
    with app.app_context():
        session = get_db(app).session()
        assert plan_day(session, FIRST_DUE, moment(FIRST_DUE, 22)) == 1
        assert plan_day(session, FIRST_DUE, moment(FIRST_DUE, 22)) == 0  # planned once
        session.commit()
    report = _send(app, moment(FIRST_DUE, 22))
    assert (report.sent, report.deferred) == (0, 1)
    (message,) = _log(app, loan_id)
    assert (message.event, message.period, message.state, message.deferrals) == ("due_today", 1, "pending", 1)
    assert aware(message.send_after) == moment(FIRST_DUE + timedelta(days=1), 8)
    assert _send(app, moment(FIRST_DUE + timedelta(days=1), 7, 59)).sent == 0
    assert _send(app, moment(FIRST_DUE + timedelta(days=1), 8)).sent == 1
    (message,) = _log(app, loan_id)
    assert (message.state, message.outcome) == ("sent", "delivered")
    with app.app_context():
        (outbox,) = get_db(app).session().scalars(select(OutboxMessage)).all()
        assert "第1期还款1101.45元今日到期" in outbox.body


def test_a_borrower_gets_at_most_the_daily_cap_and_the_rest_the_next_day(app):
    loan_id = _booked(app)
    with app.app_context():
        session = get_db(app).session()
        loan = session.get(Loan, loan_id)
        for attempt in range(1, 6):
            debit_answered(session, loan=loan, period=1, attempt=attempt, succeeded=False, amount=Decimal("1101.45"),
                           reason="余额不足", account_tail="3445", on=FIRST_DUE, now=moment(FIRST_DUE, 10))
        session.commit()
    report = _send(app, moment(FIRST_DUE, 10))
    assert (report.sent, report.deferred) == (3, 2)  # the product's cap: 3 a day
    assert _send(app, moment(FIRST_DUE, 20)).sent == 0
    assert _send(app, moment(FIRST_DUE + timedelta(days=1), 8)).sent == 2
    assert [m.state for m in _log(app, loan_id)] == ["sent"] * 5
    assert [m.deferrals for m in _log(app, loan_id)] == [0, 0, 0, 1, 1]


@pytest.fixture
def broken_app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/broken.sqlite3", PLUGIN_CONFIG={"notifications": {"failure_rate": 1}})


def test_a_failing_provider_never_blocks_the_repayment(broken_app):
    app = broken_app
    loan_id = _booked(app)
    report = due_run(app, FIRST_DUE, 9)
    assert report.sent == 1 and report.messages_sent == 0
    assert settle_and_call_back(app, FIRST_DUE, 9) == [200]
    with app.app_context():
        session = get_db(app).session()
        assert session.scalar(select(func.count()).select_from(ServicingEvent).where(
            ServicingEvent.kind == "repayment")) == 1
    due_run(app, FIRST_DUE, 15)
    messages = {m.event: m for m in _log(app, loan_id)}
    assert set(messages) == {"due_today", "debit_succeeded"}
    assert all(m.state == "pending" and "notification_send" in (m.error or "") and m.attempts >= 1
               for m in messages.values())


def test_the_celery_job_plans_sends_and_answers_like_the_command(app):
    from loanfactory.tasks.debits import due_run_task

    loan_id = _booked(app)
    get_plugins(app).clock = lambda: moment(FIRST_DUE, 10)
    with app.app_context():
        outcome = due_run_task.apply(kwargs={"today": FIRST_DUE.isoformat(), "hour": 10}).get()
    assert (outcome["created"], outcome["channels"]) == (1, 1)
    (row,) = instructions(app, loan_id)
    assert (row.state, row.attempt) == ("sent", 1)
