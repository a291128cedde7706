"""Concurrency on the embedded default: the demo's SQLite file answers parallel requests as PostgreSQL does.

Threads with a test client each (their own request context and session, as ``loanfactory serve``'s threads)
send requests at once. SQLite lets one transaction write at a time: a write transaction begins with
``BEGIN IMMEDIATE`` (it waits for the writer before it, up to the busy timeout) instead of reading first and
failing when it tries to write after another writer committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from core.applications.models import Application
from core.loans.events import ServicingEvent
from tests.api.conftest import APPLY, Channel, application_body, new_key, selling
from tests.api.test_concurrency import book_loan, count

THREADS = 20


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/demo.sqlite3")


def at_once(app: Flask, key: str, sends: list[Callable[[Channel], TestResponse]]) -> list[TestResponse]:
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return list(pool.map(lambda send: send(Channel(app.test_client(), key)), sends))


def test_twenty_identical_applications_under_one_key_make_one_application(sqlite_app: Flask) -> None:
    key = new_key(sqlite_app)
    body = application_body()
    responses = at_once(sqlite_app, key, [lambda c: c.post(APPLY, body, idempotency_key="same")] * THREADS)
    assert {r.status_code for r in responses} == {201}, [r.get_json() for r in responses if r.status_code != 201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == THREADS - 1
    assert count(sqlite_app, select(func.count()).select_from(Application)) == 1


def test_two_repayments_at_once_are_both_posted(sqlite_app: Flask) -> None:
    key = new_key(sqlite_app)
    loan_id = book_loan(sqlite_app, Channel(sqlite_app.test_client(), key))
    url = f"/api/v1/loans/{loan_id}/repayments"
    responses = at_once(sqlite_app, key, [lambda c: c.post(url, {"amount": "100.00", "paid_on": "2026-03-10"}),
                                          lambda c: c.post(url, {"amount": "200.00", "paid_on": "2026-03-10"})])
    assert [r.status_code for r in responses] == [201, 201], [r.get_json() for r in responses]
    repayments = select(func.count()).select_from(ServicingEvent).where(ServicingEvent.kind == "repayment")
    assert count(sqlite_app, repayments) == 2
    balances = Channel(sqlite_app.test_client(), key).get(f"/api/v1/loans/{loan_id}/balances").get_json()
    assert balances["overpayment"] == "300.00"
