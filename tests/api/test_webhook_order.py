"""Webhooks in order per subscription, at the pace of the backlog.

A subscription's events go one at a time, oldest first: a failing event holds the later ones back until it is
delivered (or given up), and dispatchers running at once never send two of one subscription's events together.
One dispatch sends the whole due backlog (it used to send 100 per beat tick, every 30 s).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.webhooks import dispatch_webhooks
from core.channels import webhooks
from core.channels.targets import TargetPolicy
from core.channels.webhooks import WebhookEvent
from loanfactory.database import get_db
from tests.api.conftest import APPLY, Channel, application_body, make_api_app, new_key, webhooks_sent
from tests.api.test_webhooks import FlakyReceiver, hook_app  # noqa: F401  (the fixture)
from tests.api.test_whole_path import Receiver

LOOPBACK = TargetPolicy(allow_http=True, allow_loopback=True)


def test_a_failed_event_holds_back_the_later_ones_of_its_subscription(hook_app) -> None:  # noqa: F811
    receiver = FlakyReceiver(failures=1)
    try:
        channel = Channel(hook_app.test_client(), new_key(hook_app))
        channel.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.*"]})
        assert channel.post(APPLY, application_body()).get_json()["state"] == "approved"
        webhooks_sent(hook_app)
        with hook_app.app_context():
            dispatch_webhooks()
        assert receiver.deliveries == []  # application.draft failed: nothing after it went out
        with hook_app.app_context():
            session = get_db(hook_app).session()
            pending = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
            assert [e.attempts for e in pending] == [1, 0, 0, 0]
            pending[0].next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            session.commit()
            dispatch_webhooks()
        assert receiver.types() == ["application.draft", "application.submitted", "application.under_review",
                                    "application.approved"]
    finally:
        receiver.close()


@pytest.mark.postgres
def test_concurrent_dispatches_send_the_whole_backlog_in_order_per_subscription(postgres_url) -> None:
    app = make_api_app(postgres_url)
    receivers = [Receiver(), Receiver()]
    try:
        with app.app_context():
            session = get_db(app).session()
            subscriptions = [webhooks.subscribe(session, f"shop-{k}", r.url, ["*"], policy=LOOPBACK)
                             for k, r in enumerate(receivers)]
            session.flush()
            due = datetime.now(UTC) - timedelta(seconds=1)
            session.add_all(WebhookEvent(subscription_id=s.id, transition_id=n, event_type="loan.overdue",
                                         payload={"n": n}, status="pending", attempts=0, next_attempt_at=due)
                            for n in range(300) for s in subscriptions)
            session.commit()
            assert webhooks.backlog(session) == 600
            session.rollback()
        counts: list[int] = []

        def dispatch() -> None:
            with app.app_context():
                counts.append(dispatch_webhooks())

        threads = [threading.Thread(target=dispatch) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert sum(counts) == 600  # each event sent once, by one of the three, in these three dispatches
        for receiver in receivers:
            numbers = [event["data"]["n"] for event in receiver.events()]
            assert numbers == list(range(300))
        with app.app_context():
            assert webhooks.backlog(get_db(app).session()) == 0
    finally:
        for receiver in receivers:
            receiver.close()
        get_db(app).engine.dispose()
