"""Webhook delivery: signatures, retries with backoff after a failing receiver, and the outbox rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import api.webhooks
from api.webhooks import dispatch_webhooks
from core.channels import webhooks
from core.channels.webhooks import WebhookEvent, backoff_seconds, signature_header, verify_signature
from loanfactory.database import get_db
from tests.api.conftest import (
    APPLY,
    PAYMENT_PLUGINS,
    Channel,
    application_body,
    make_api_app,
    new_key,
    publish_sample,
    webhooks_sent,
)
from tests.api.test_whole_path import Receiver


class FlakyReceiver(Receiver):
    """Answers 503 to the first ``failures`` deliveries, then 204."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        handler = self.server.RequestHandlerClass
        outer = self
        original = handler.do_POST

        def do_post(request: Any) -> None:
            if outer.failures > 0:
                outer.failures -= 1
                request.rfile.read(int(request.headers["Content-Length"]))
                request.send_response(503)
                request.end_headers()
                return
            original(request)

        handler.do_POST = do_post  # type: ignore[method-assign]


@pytest.fixture
def hook_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_api_app(f"sqlite:///{tmp_path}/hooks.sqlite3", **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    yield app
    get_db(app).engine.dispose()


def test_a_failing_receiver_gets_the_event_again_after_the_backoff(hook_app: Flask) -> None:
    receiver = FlakyReceiver(failures=1)
    try:
        channel = Channel(hook_app.test_client(), new_key(hook_app))
        channel.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.approved"]})
        assert channel.post(APPLY, application_body()).get_json()["state"] == "approved"
        webhooks_sent(hook_app)
        assert receiver.deliveries == []
        with hook_app.app_context():
            session = get_db(hook_app).session()
            (event,) = session.scalars(select(WebhookEvent)).all()
            assert event.status == "pending" and event.attempts == 1 and event.last_error == "http_503"
            assert event.next_attempt_at.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(seconds=5)
            session.rollback()  # a reader's transaction holds SQLite's lock: end it before the dispatcher writes
            dispatch_webhooks()  # not due yet: nothing is sent
        assert receiver.deliveries == []
        with hook_app.app_context():
            session = get_db(hook_app).session()
            event = session.scalars(select(WebhookEvent)).one()
            event.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            session.commit()
            dispatch_webhooks()
        (delivered,) = receiver.events()
        assert delivered["type"] == "application.approved" and delivered["data"]["to"] == "approved"
        with hook_app.app_context():
            event = get_db(hook_app).session().scalars(select(WebhookEvent)).one()
            assert event.status == "delivered" and event.attempts == 2
    finally:
        receiver.close()


def test_only_the_subscribed_channels_events_are_sent(hook_app: Flask) -> None:
    receiver = Receiver()
    try:
        mine = Channel(hook_app.test_client(), new_key(hook_app))
        other = Channel(hook_app.test_client(), new_key(hook_app, channel="other-shop"))
        mine.post("/api/v1/webhooks", {"url": receiver.url})
        other.post(APPLY, application_body())
        webhooks_sent(hook_app)
        assert receiver.deliveries == []
        mine.post(APPLY, application_body())
        webhooks_sent(hook_app)
        assert [e["type"] for e in receiver.events()] == ["application.draft", "application.submitted",
                                                          "application.under_review", "application.approved"]
    finally:
        receiver.close()


def test_a_signature_checks_the_body_and_the_secret() -> None:
    body = json.dumps({"id": 1}).encode()
    header = signature_header("s3cret", 1_795_000_000, body)
    assert verify_signature("s3cret", header, body)
    assert not verify_signature("s3cret", header, body + b" ")
    assert not verify_signature("other", header, body)
    assert not verify_signature("s3cret", "t=x,v1=00", body)


def test_backoff_doubles_from_ten_seconds_to_an_hour_and_gives_up_after_ten_attempts() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_seconds(20) == 3600
    event = WebhookEvent(attempts=0, status="pending")
    delays = [webhooks.mark_failed(event, "HTTP 500") for _ in range(webhooks.MAX_ATTEMPTS)]
    assert delays[-1] is None and event.status == "failed" and event.attempts == webhooks.MAX_ATTEMPTS


def test_a_subscription_needs_an_http_url_and_events(hook_app: Flask) -> None:
    channel = Channel(hook_app.test_client(), new_key(hook_app))
    bad = channel.post("/api/v1/webhooks", {"url": "javascript:alert(1)", "events": []})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} == {"/events"}
    bad_url = channel.post("/api/v1/webhooks", {"url": "file:///etc/passwd"})
    assert bad_url.status_code == 422 and bad_url.get_json()["errors"][0]["pointer"] == "/url"


class HoldingReceiver(Receiver):
    """Holds every POST until ``requests_done`` is set (at most 30 s), and notes whether it was: a receiver
    slower than every request the test makes meanwhile. ``arrived`` tells that a POST came."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived, self.requests_done = threading.Event(), threading.Event()
        self.held_until_requests_done: list[bool] = []
        handler = self.server.RequestHandlerClass
        original = handler.do_POST
        outer = self

        def do_post(request: Any) -> None:
            outer.arrived.set()
            outer.held_until_requests_done.append(outer.requests_done.wait(30))
            original(request)

        handler.do_POST = do_post  # type: ignore[method-assign]


def test_a_slow_receiver_holds_up_no_request_and_gets_the_event_afterwards(hook_app: Flask,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.webhooks, "TIMEOUT_SECONDS", 120)  # the sender waits for the receiver as long as it takes
    receiver = HoldingReceiver()
    try:
        mine = Channel(hook_app.test_client(), new_key(hook_app))
        other = Channel(hook_app.test_client(), new_key(hook_app, channel="other-shop"))
        hook = mine.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.approved"]}).get_json()
        assert mine.post(APPLY, application_body()).status_code == 201
        assert receiver.arrived.wait(30), "the event is on its way, from the background"
        # the receiver holds the delivery: another channel's write goes through meanwhile
        assert other.post(APPLY, application_body()).status_code == 201
        receiver.requests_done.set()
        webhooks_sent(hook_app)
        assert receiver.held_until_requests_done == [True], "a request waited for the receiver"
        (event,) = mine.get(f"/api/v1/webhooks/{hook['id']}/events").get_json()["items"]
        assert (event["type"], event["status"], event["attempts"]) == ("application.approved", "delivered", 1)
        assert [e["type"] for e in receiver.events()] == ["application.approved"]
    finally:
        receiver.requests_done.set()
        receiver.close()


def test_one_collection_turns_the_whole_window_after_the_cursor_into_events(hook_app: Flask, monkeypatch) -> None:
    """More transitions than a batch wait after the cursor (a busy minute): one dispatch makes every event, not
    a batch's worth, so no event waits a minute for the cursor to move on."""
    monkeypatch.setattr(webhooks, "BATCH", 2)
    receiver = Receiver()
    try:
        channel = Channel(hook_app.test_client(), new_key(hook_app))
        channel.post("/api/v1/webhooks", {"url": receiver.url})
        channel.post(APPLY, application_body())
        webhooks_sent(hook_app)
        assert receiver.types() == ["application.draft", "application.submitted", "application.under_review",
                                    "application.approved"]
    finally:
        receiver.close()


def test_a_dispatch_on_a_worker_sends_its_events_itself_not_a_message_each(tmp_path: Path, monkeypatch) -> None:
    """Under load every dispatch queued a delivery message for every due event, again and again until a worker
    took each, and the queue grew faster than workers drained it: a dispatch now sends what is due itself."""
    app = make_api_app(f"sqlite:///{tmp_path}/worker.sqlite3", **PAYMENT_PLUGINS,
                       CELERY={"broker_url": "memory://", "task_always_eager": False})
    publish_sample(app, "consumer_installment")
    queued: list[object] = []
    monkeypatch.setattr(api.webhooks.deliver_webhook, "apply_async", lambda *a, **k: queued.append(a))
    monkeypatch.setattr(api.webhooks.dispatch_webhooks, "apply_async", lambda *a, **k: None)  # no worker here
    receiver = Receiver()
    try:
        channel = Channel(app.test_client(), new_key(app))
        channel.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.approved"]})
        assert channel.post(APPLY, application_body()).status_code == 201
        webhooks_sent(app)
        with app.app_context():
            assert dispatch_webhooks() == 1  # what a worker runs
        assert receiver.types() == ["application.approved"] and queued == []
    finally:
        receiver.close()
