"""Concurrency on PostgreSQL: 50 threads sending the same request under one Idempotency-Key.

Each thread has its own test client, so its own request context and database session (the app's scoped
session is per thread), as 50 gunicorn workers would. The unique (channel, key) constraint makes the
late requests wait for the first one's transaction and answer with its response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core.applications.models import Application
from core.customers.parties import Customer
from core.ledger.models import JournalEntry
from core.loans.events import ServicingEvent
from loanfactory.database import get_db
from tests.api.conftest import (
    APPLY,
    Channel,
    application_body,
    book_loan,
    id_number,
    new_key,
    selling,
)

THREADS = 50


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    yield from selling(postgres_url)


def in_parallel(app: Flask, key: str, send: Callable[[Channel], TestResponse],
                threads: int = THREADS) -> list[TestResponse]:
    def one(_n: int) -> TestResponse:
        return send(Channel(app.test_client(), key))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(threads)))


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


@pytest.mark.postgres
def test_twenty_applications_of_one_new_applicant_at_once_approve_only_the_three_loans_allowed(
        pg_app: Flask) -> None:
    """CONSUMER_INSTALLMENT allows 3 live loans per customer: the customer's row is locked while an application
    counts what the customer holds and has on the way, so the twenty are decided one after another."""
    key = new_key(pg_app)
    body = application_body(id_no=id_number("19900101", 9))
    responses = in_parallel(pg_app, key, lambda c: c.post(APPLY, body), threads=20)
    assert {r.status_code for r in responses} == {201}
    states = [r.get_json()["state"] for r in responses]
    assert (states.count("approved"), states.count("rejected")) == (3, 17)
    assert all("TOO_MANY_LOANS" in r.get_json()["decision"]["reasons"] for r in responses
               if r.get_json()["state"] == "rejected")
    approved = select(func.count()).select_from(Application).where(Application.state == "approved")
    assert count(pg_app, approved) == 3
