"""The credit-line API: its OpenAPI paths per product, channel scoping, errors by pointer, and line webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from openapi_spec_validator import validate
from sqlalchemy import select

from core.channels.webhooks import WebhookEvent, collect_events
from core.credit_lines import lifecycle
from tests.api.conftest import Channel, application_body, new_key, publish_sample
from tests.credit_lines.conftest import line_app, session_of

APPLY = "/api/v1/products/REVOLVING_CREDIT_LINE/credit-line-applications"


@pytest.fixture
def api(tmp_path) -> Iterator[Flask]:
    yield from line_app(f"sqlite:///{tmp_path}/lines.sqlite3", API_BUSINESS_DATE="2026-03-02")


def take_line(channel: Channel, limit: str = "20000.00") -> dict:
    body = application_body(limit)
    del body["term"], body["method"]
    applied = channel.post(APPLY, body).get_json()
    return channel.post(applied["links"]["credit_line"]).get_json()


def test_the_openapi_documents_narrow_the_line_operations_to_each_line_product(api: Flask) -> None:
    publish_sample(api, "consumer_installment")
    client = api.test_client()
    whole = client.get("/api/v1/openapi.json").get_json()
    validate(whole)
    operations = {op["operationId"]: (path, method) for path, item in whole["paths"].items()
                  for method, op in item.items()}
    assert operations["applyForCreditLine"] == ("/products/{code}/credit-line-applications", "post")
    assert operations["requestDrawdown"] == ("/credit-lines/{line_id}/drawdowns", "post")
    assert {"takeCreditLine", "listCreditLines", "getCreditLine", "quoteDrawdown", "listLineLoans"} <= set(operations)
    generic = whole["components"]["schemas"]["DrawdownRequest"]
    assert "daily_interest" in generic["properties"]["method"]["enum"]
    line = client.get("/api/v1/products/REVOLVING_CREDIT_LINE/openapi.json").get_json()
    validate(line)
    assert line["paths"].keys() == whole["paths"].keys()
    schemas = line["components"]["schemas"]
    application = schemas["CreditLineApplicationRequest"]
    assert {"term", "method"}.isdisjoint(application["required"])
    limit = application["properties"]["amount"]
    assert (limit["x-minimum"], limit["x-maximum"], limit["x-multipleOf"]) == ("1000.00", "100000.00", "1000.00")
    drawdown = schemas["DrawdownRequest"]
    assert drawdown["properties"]["method"]["enum"] == ["equal_installment", "equal_principal", "interest_only",
                                                        "daily_interest"]
    amount = drawdown["properties"]["amount"]
    assert (amount["x-minimum"], amount["x-maximum"]) == ("500.00", "50000.00")
    loans = client.get("/api/v1/products/CONSUMER_INSTALLMENT/openapi.json").get_json()["components"]["schemas"]
    assert loans["DrawdownRequest"] == generic
    assert "x-minimum" not in loans["CreditLineApplicationRequest"]["properties"]["amount"]


def test_a_channel_sees_its_own_lines_only_and_bad_drawdowns_name_their_field(api: Flask) -> None:
    mine = Channel(api.test_client(), new_key(api))
    other = Channel(api.test_client(), new_key(api, "other-app"))
    line = take_line(mine)
    url = line["links"]["self"]
    assert other.get(url).status_code == 404
    assert other.get("/api/v1/credit-lines").get_json()["items"] == []
    assert [item["id"] for item in mine.get("/api/v1/credit-lines").get_json()["items"]] == [line["id"]]
    assert other.post(url + "/drawdowns", {"amount": "500.00", "term": 3, "method": "equal_installment"}
                      ).status_code == 404
    cases = [({"amount": "500.00", "term": 3, "method": "equal_installment", "colour": "red"}, "/colour"),
             ({"amount": "500.00", "term": 91, "method": "daily_interest"}, "/term"),
             ({"amount": "450.00", "term": 3, "method": "equal_installment"}, "/amount"),
             ({"amount": "500.00", "term": 4, "method": "equal_installment"}, "/term"),
             ({"amount": "500.00", "term": 3, "method": "balloon"}, "/method")]
    for body, where in cases:
        refused = mine.post(url + "/drawdowns", body)
        assert refused.status_code == 422, body
        assert [e["pointer"] for e in refused.get_json()["errors"]] == [where], refused.get_json()
    assert mine.get(url + "/loans").get_json()["items"] == []


def test_line_state_changes_reach_the_channels_webhooks(api: Flask) -> None:
    mine = Channel(api.test_client(), new_key(api))
    other = Channel(api.test_client(), new_key(api, "other-app"))
    for channel in (mine, other):
        assert channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["credit_line.*"]}
                            ).status_code == 201
    line = take_line(mine)
    with api.app_context():
        session = session_of(api)
        lifecycle.freeze(session, lifecycle.line_for_update(session, line["id"]), actor="risk", reason="warning")
        session.commit()
        collect_events(session, datetime.now(UTC) + timedelta(hours=1))
        session.commit()
        # every event written, whoever collected it (the app's own outbox listener may have taken the first)
        events = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        assert [(e.event_type, e.payload["id"]) for e in events] == [("credit_line.active", line["id"]),
                                                                       ("credit_line.frozen", line["id"])]
        assert len({e.subscription_id for e in events}) == 1
