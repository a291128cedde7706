"""The API while what it stands on fails: the database away or its connection cut, the broker or the rate
limit's store away. Found by ``bench/faults.py``; each case is the fault made small enough for a test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

import api.auth
import api.transactions
import api.webhooks
from core.applications.models import Application
from core.channels.webhooks import WebhookSubscription
from loanfactory.database import get_db
from tests.api.conftest import APPLY, Channel, application_body, make_api_app, new_key, publish_sample
from tests.conftest import PG_ADMIN_URL

QUOTE = {"amount": "5000.00", "term": 6, "method": "equal_installment"}


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(get_db(app).session().scalar(select(func.count()).select_from(model)) or 0)


def lost(statement: str = "SELECT 1") -> DBAPIError:
    """What SQLAlchemy raises when the server cut the connection under a statement."""
    return DBAPIError(statement, {}, psycopg.OperationalError("server closed the connection unexpectedly"),
                      connection_invalidated=True)


def test_the_database_away_is_a_503_with_its_own_retry_after_not_a_500(api_app: Flask, consumer: int,
                                                                       channel: Channel, monkeypatch) -> None:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))

    monkeypatch.setattr(api.auth, "authenticate_for_product", refused)
    answer = channel.post("/api/v1/products/CONSUMER_INSTALLMENT/quotes", QUOTE, idempotency_key=None)
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"].endswith("/database-unavailable")
    assert answer.headers["Retry-After"] == "2"  # not the rate limit window's seconds


def test_a_commit_cut_off_is_run_again_and_replays_the_first_answer_once(db_app: Flask, db_channel: Channel,
                                                                         monkeypatch) -> None:
    """The connection goes during an idempotent request's commit, which went through: the request is run again
    at once, its claim finds the committed record, and the client gets that answer; one subscription."""
    commit = api.transactions._commit
    cuts = []

    def commit_then_cut(*args: Any, **kwargs: Any) -> None:
        commit(*args, **kwargs)
        if not cuts:
            cuts.append(1)
            raise lost("COMMIT")

    monkeypatch.setattr(api.transactions, "_commit", commit_then_cut)
    answer = db_channel.post("/api/v1/webhooks", {"url": "https://127.0.0.1/hooks"})
    assert answer.status_code == 201 and answer.headers["Idempotent-Replayed"] == "true"
    assert count(db_app, WebhookSubscription) == 1


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    app = make_api_app(postgres_url)
    publish_sample(app, "consumer_installment")
    yield app
    get_db(app).engine.dispose()


@pytest.mark.postgres
def test_backends_terminated_under_the_api_cost_the_channel_nothing(pg_app: Flask, postgres_url: str) -> None:
    """Every backend of the database is terminated between two applications (the pooled connection and the key
    cache's listener): the next application is answered 201 on a new connection, not a 500."""
    channel = Channel(pg_app.test_client(), new_key(pg_app))
    assert channel.post(APPLY, application_body()).status_code == 201
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        terminated = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE datname = :name AND pid <> pg_backend_pid()"),
                                  {"name": postgres_url.rsplit("/", 1)[1]}).scalar()
    admin.dispose()
    assert terminated >= 1
    again = channel.post(APPLY, application_body())
    assert again.status_code == 201, again.get_json()
    assert count(pg_app, Application) == 2


def test_the_dispatcher_sends_at_most_one_dispatch_a_second_and_waits_after_a_refusal(tmp_path,
                                                                                    monkeypatch) -> None:
    """With workers, a dispatch per write outgrew what they drain under load: the app's dispatcher thread sends
    one, then waits a second before the next; after the broker refused one (Redis away) it waits 5 s. Neither
    wait is the request's."""
    app = make_api_app(f"sqlite:///{tmp_path}/broker.sqlite3",
                       CELERY={"broker_url": "memory://", "task_always_eager": False})
    sends: list[int] = []

    def send(*_args: Any, **_kwargs: Any) -> None:
        sends.append(1)
        if len(sends) == 1:
            raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    pauses: list[float] = []
    monkeypatch.setattr(api.webhooks.dispatch_webhooks, "apply_async", send)
    app.extensions[api.webhooks.EXTENSION] = dispatcher = api.webhooks.Dispatcher(app, sleep=pauses.append)
    channel = Channel(app.test_client(), new_key(app))
    assert channel.post("/api/v1/webhooks", {"url": "https://127.0.0.1/hooks"}).status_code == 201
    assert dispatcher.wait_idle(30)
    assert channel.post("/api/v1/webhooks", {"url": "https://127.0.0.1/other"}).status_code == 201
    assert dispatcher.wait_idle(30)
    assert len(sends) == 2 and pauses == [api.webhooks.BROKER_PAUSE_SECONDS, api.webhooks.DISPATCH_SECONDS]


def test_a_write_is_answered_when_the_result_backend_is_away(tmp_path) -> None:
    """The dispatcher's message goes to the broker, and nobody waits for its result: a sender expecting one
    subscribes to the result backend (Redis, away here) for every message it sends."""
    app = make_api_app(f"sqlite:///{tmp_path}/results.sqlite3",
                       CELERY={"broker_url": "memory://", "result_backend": "redis://127.0.0.1:1/1",
                               "task_always_eager": False})
    sent = []
    app.extensions[api.webhooks.EXTENSION] = dispatcher = api.webhooks.Dispatcher(app, sleep=sent.append)
    answer = Channel(app.test_client(), new_key(app)).post("/api/v1/webhooks", {"url": "https://127.0.0.1/h"})
    assert answer.status_code == 201 and dispatcher.wait_idle(30)
    assert sent == [api.webhooks.DISPATCH_SECONDS]  # the message went, with no result to wait for


def test_the_rate_limit_store_away_lets_requests_through(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    answer = Channel(app.test_client(), new_key(app)).get("/api/v1/products")
    assert answer.status_code == 200 and "X-RateLimit-Limit" not in answer.headers
