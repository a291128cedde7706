"""Concurrency on PostgreSQL: 50 threads sending the same request under one Idempotency-Key.

Each thread has its own test client, so its own request context and database session (the app's scoped
session is per thread), as 50 gunicorn workers would. The unique (channel, key) constraint makes the
late requests wait for the first one's transaction and answer with its response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core.applications.models import Application
from core.businessday.calendar import seed_calendar
from core.customers.parties import Customer
from core.ledger.models import JournalEntry
from core.loans.events import ServicingEvent
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from tests.api.conftest import (
    APPLY,
    PAYMENT_PLUGINS,
    Channel,
    application_body,
    make_api_app,
    new_key,
    publish_sample,
)

THREADS = 50
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    app = make_api_app(postgres_url, **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    yield app
    get_db(app).engine.dispose()


def in_parallel(app: Flask, key: str, send: Callable[[Channel], TestResponse]) -> list[TestResponse]:
    def one(_n: int) -> TestResponse:
        return send(Channel(app.test_client(), key))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def count(app: Flask, query: object) -> int:
    with app.app_context():
        return int(get_db(app).session().scalar(query) or 0)  # type: ignore[call-overload]


@pytest.mark.postgres
def test_fifty_identical_applications_under_one_key_make_one_application(pg_app: Flask) -> None:
    key = new_key(pg_app)
    body = application_body()
    responses = in_parallel(pg_app, key, lambda c: c.post(APPLY, body, idempotency_key="same-application"))
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == THREADS - 1
    assert count(pg_app, select(func.count()).select_from(Application)) == 1


@pytest.mark.postgres
def test_fifty_first_applications_of_one_applicant_at_once_make_one_customer(pg_app: Flask) -> None:
    key = new_key(pg_app)
    body = application_body()
    responses = in_parallel(pg_app, key, lambda c: c.post(APPLY, body))  # a new Idempotency-Key each
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == THREADS
    assert count(pg_app, select(func.count()).select_from(Customer)) == 1
    assert count(pg_app, select(func.count(func.distinct(Application.customer_id)))) == 1


def book_loan(app: Flask, channel: Channel) -> int:
    """Apply, accept, sign and disburse through the API; the bank calls back; return the loan id."""
    get_plugins(app).clock = lambda: datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, date(2026, 1, 1), date(2026, 12, 31))
        session.commit()
    application = channel.post(APPLY, application_body()).get_json()
    url = f"/api/v1/applications/{application['id']}"
    channel.post(url + "/acceptance")
    contract = channel.get(url + "/contract").get_json()
    channel.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    channel.post(url + "/disbursement")
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, datetime(2026, 3, 2, 10, 5, tzinfo=SHANGHAI), session) as bank:
            bank.settle_due()
            (callback,) = bank.undelivered_callbacks()
            headers, body = dict(callback.headers), callback.body.encode()
        session.commit()
    assert app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=body,
                                  headers=headers).status_code == 200
    loan_id: int = channel.get(url).get_json()["loan_id"]
    return loan_id


@pytest.mark.postgres
def test_fifty_identical_repayments_under_one_key_post_once(pg_app: Flask) -> None:
    key = new_key(pg_app)
    loan_id = book_loan(pg_app, Channel(pg_app.test_client(), key))
    repayment_entries = select(func.count()).select_from(JournalEntry).where(JournalEntry.event == "repayment")
    assert count(pg_app, repayment_entries) == 0
    responses = in_parallel(pg_app, key, lambda c: c.post(
        f"/api/v1/loans/{loan_id}/repayments", {"amount": "500.00", "paid_on": "2026-03-10"},
        idempotency_key="same-repayment"))
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == 1
    repayments = select(func.count()).select_from(ServicingEvent).where(ServicingEvent.kind == "repayment")
    assert count(pg_app, repayments) == 1
    assert count(pg_app, repayment_entries) == 1
    balances = Channel(pg_app.test_client(), key).get(f"/api/v1/loans/{loan_id}/balances").get_json()
    assert balances["overpayment"] == "500.00"
