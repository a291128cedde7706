"""The API while what it stands on fails: the database away or its connection cut, the broker or the rate
limit's store away. Found by ``bench/faults.py``; each case is the fault made small enough for a test."""

from __future__ import annotations

import threading
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
    answer = db_channel.post("/api/v1/webhooks", {"url": "https://channel.example/hooks"})
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


def test_a_write_never_waits_on_the_broker(tmp_path) -> None:
    """The dispatcher's message is sent from a thread of the process: a write is answered while the broker hangs
    (Redis away, its client retrying for seconds), and the message goes once the broker answers."""
    app = make_api_app(f"sqlite:///{tmp_path}/broker.sqlite3",
                       CELERY={"broker_url": "memory://", "task_always_eager": False})
    channel = Channel(app.test_client(), new_key(app))
    broker_back, sent = threading.Event(), threading.Event()

    def hanging_broker() -> None:
        broker_back.wait()
        sent.set()

    app.extensions[api.webhooks.SENDER] = api.webhooks.DispatchSender(hanging_broker)
    answer = channel.post("/api/v1/webhooks", {"url": "https://channel.example/hooks"})
    assert answer.status_code == 201 and not sent.is_set()
    broker_back.set()
    assert sent.wait(30)


def test_the_sender_sends_one_message_for_the_writes_since_its_last_and_waits_after_a_refusal() -> None:
    sends: list[int] = []
    refusals = {2: BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")}

    def send() -> None:
        sends.append(1)
        if len(sends) in refusals:
            raise refusals[len(sends)]

    sender = api.webhooks.DispatchSender(send, thread=False)
    assert sender.send_once() == 0.0 and sends == []  # nobody asked
    for _ in range(3):
        sender.ask()
    assert sender.send_once() == api.webhooks.DISPATCH_SECONDS and len(sends) == 1
    assert sender.send_once() == 0.0 and len(sends) == 1
    sender.ask()
    assert sender.send_once() == api.webhooks.BROKER_PAUSE_SECONDS  # refused: logged, and a pause
    sender.ask()
    assert sender.send_once() == api.webhooks.DISPATCH_SECONDS and len(sends) == 3


def test_an_eager_dispatch_meeting_the_database_away_after_the_commit_keeps_the_answer(
        api_app: Flask, channel: Channel, monkeypatch) -> None:
    def away() -> None:
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))

    monkeypatch.setattr(api.webhooks.dispatch_webhooks, "run", away)
    answer = channel.post("/api/v1/webhooks", {"url": "https://channel.example/hooks"})
    assert answer.status_code == 201 and count(api_app, WebhookSubscription) == 1


def test_the_rate_limit_store_away_lets_requests_through(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    answer = Channel(app.test_client(), new_key(app)).get("/api/v1/products")
    assert answer.status_code == 200 and "X-RateLimit-Limit" not in answer.headers


def test_a_write_is_answered_when_the_result_backend_is_away(tmp_path) -> None:
    """The dispatcher's message goes to the broker, and nobody waits for its result: a sender expecting one
    subscribes to the result backend (Redis, away here) and failed the committed request with a 500."""
    app = make_api_app(f"sqlite:///{tmp_path}/results.sqlite3",
                       CELERY={"broker_url": "memory://", "result_backend": "redis://127.0.0.1:1/1",
                               "task_always_eager": False})
    answer = Channel(app.test_client(), new_key(app)).post("/api/v1/webhooks", {"url": "https://channel.example/h"})
    assert answer.status_code == 201
