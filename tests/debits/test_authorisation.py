"""The debit authorisation (代扣授权): stated in the contract, captured when it is signed, shown masked,
encrypted at rest, revocable through the API and audited; a revoked one stops every debit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from core.backoffice.audit import AuditEvent
from core.channels.webhooks import WebhookEvent, collect_events
from core.origination.booking import ContractRecord
from debits.debit_helpers import delivered, due_run, instructions, moment, seed_years, settle_and_call_back
from loanfactory.database import get_db
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.models import BankOrder
from tests.api.conftest import Channel, book_loan, new_key, selling

ACCOUNT = "6222020200112233445"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/debits.sqlite3")


@pytest.fixture
def channel(app: Flask) -> Channel:
    return Channel(app.test_client(), new_key(app))


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        session = get_db(app).session()
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_signing_the_contract_grants_the_authorisation_it_states(app, channel):
    loan_id = book_loan(app, channel)
    debits = channel.get(f"/api/v1/loans/{loan_id}/debits").get_json()
    with app.app_context():
        session = get_db(app).session()
        record = session.scalar(select(ContractRecord))
        stated = record.terms["debit_authorisation"]
        stored = session.execute(text("SELECT account_number, holder_name FROM debit_authorisations")).one()
    assert stated["bank"] == "ICBC"
    assert stated["account"] == "*" * 15 + "3445"
    assert stated["account"] in stated["text"] and "ICBC" in stated["text"] and "撤销" in stated["text"]
    assert ACCOUNT not in str(record.terms)
    authorisation = debits["authorisation"]
    assert authorisation["live"] is True and authorisation["account"] == "****3445"
    assert authorisation["contract_sha256"] == record.sha256 and authorisation["channel"] == "api"
    assert debits["instructions"] == []
    assert ACCOUNT not in str(stored) and "张三" not in str(stored)  # encrypted at rest
    (granted,) = _audit(app, "debit_authorisation.granted")
    assert ACCOUNT not in str(granted.after) and granted.after["account"] == "****3445"


def test_revocation_is_audited_once_and_stops_the_debits(app, channel):
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    loan_id = book_loan(app, channel)
    url = f"/api/v1/loans/{loan_id}/debit-authorisation/revocation"
    refused = channel.post(url, {"reason": ""})
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    unknown = channel.post(url, {"reason": "borrower asked", "extra": 1})
    assert unknown.status_code == 422 and "/extra" in unknown.get_data(as_text=True)
    first = channel.post(url, {"reason": "借款人来电撤销授权"})
    assert first.status_code == 200
    assert first.get_json()["authorisation"]["live"] is False
    again = channel.post(url, {"reason": "twice"}).get_json()
    assert again["authorisation"]["revoked_at"] == first.get_json()["authorisation"]["revoked_at"]
    assert again["authorisation"]["revoke_reason"] == "借款人来电撤销授权"
    (revoked,) = _audit(app, "debit_authorisation.revoked")
    assert revoked.before["revoked_at"] is None and revoked.comment == "借款人来电撤销授权"

    report = due_run(app, date(2026, 4, 2), 10)  # the first installment falls due (the loan paid out 03-02)
    assert (report.created, report.skipped, report.sent) == (0, 1, 0)
    (skipped,) = instructions(app, loan_id)
    assert (skipped.period, skipped.attempt, skipped.state, skipped.failure_code) == (
        1, 1, "skipped", "NO_AUTHORISATION")
    with app.app_context():
        assert get_db(app).session().scalar(select(BankOrder).where(BankOrder.kind == "debit")) is None
    assert due_run(app, date(2026, 4, 2), 10).skipped == 0  # the same hour again writes nothing


def test_another_channels_loan_is_not_found(app, channel):
    loan_id = book_loan(app, channel)
    other = Channel(app.test_client(), new_key(app, channel="other-app"))
    assert other.get(f"/api/v1/loans/{loan_id}/debits").status_code == 404
    assert other.post(f"/api/v1/loans/{loan_id}/debit-authorisation/revocation",
                      {"reason": "x"}).status_code == 404


def test_each_debit_answer_is_a_webhook_to_the_loans_channel(app, channel):
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    loan_id = book_loan(app, channel)
    delivered(app)
    subscribed = channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["debit.*"]})
    assert subscribed.status_code == 201, subscribed.get_data(as_text=True)
    _plan_one_failure(app)
    due_run(app, date(2026, 4, 2), 9)
    settle_and_call_back(app, date(2026, 4, 2), 9)
    due_run(app, date(2026, 4, 2), 15)
    settle_and_call_back(app, date(2026, 4, 2), 15)
    with app.app_context():
        session = get_db(app).session()
        collect_events(session, datetime.now(UTC) + timedelta(minutes=5))  # (the app's dispatcher may be first)
        session.commit()
        shown = [(e.event_type, e.payload["reason"]) for e in session.scalars(
            select(WebhookEvent).order_by(WebhookEvent.id))]
    failed, succeeded = instructions(app, loan_id)
    assert shown == [
        ("debit.failed", f"loan={loan_id} period=1 attempt=1 amount={failed.amount:.2f} INSUFFICIENT_FUNDS: 余额不足"),
        ("debit.succeeded", f"loan={loan_id} period=1 attempt=2 amount={succeeded.amount:.2f} "
                            f"collected={succeeded.collected:.2f}")]


def _plan_one_failure(app: Flask) -> None:
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, moment(date(2026, 3, 2), 10), session) as bank:
            bank.plan_fault("fail", operation="debit", code="INSUFFICIENT_FUNDS", times=1)
        session.commit()
