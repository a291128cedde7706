"""The API's ground rules: keys, problem+json errors, idempotency, pagination and rate limits."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from sqlalchemy import func, select

from api import ratelimit
from core.channels.idempotency import IdempotencyRecord
from core.channels.keys import ApiClient
from core.channels.webhooks import WebhookSubscription
from loanfactory.database import get_db
from tests.api.conftest import Channel, make_api_app, new_key


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(get_db(app).session().scalar(select(func.count()).select_from(model)) or 0)


def test_a_call_without_a_key_is_a_401_problem_naming_the_header(api_app: Flask) -> None:
    response = api_app.test_client().get("/api/v1/products")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert body["errors"] == [{"header": "X-API-Key", "detail": "X-API-Key: an API key is required"}]
    assert response.headers["WWW-Authenticate"].startswith("ApiKey")


def test_a_wrong_or_revoked_key_is_refused(api_app: Flask, channel: Channel) -> None:
    client = api_app.test_client()
    wrong = channel.key[:-4] + "AAAA"
    assert client.get("/api/v1/products", headers={"X-API-Key": wrong}).status_code == 401
    assert client.get("/api/v1/products", headers={"X-API-Key": "not-a-key"}).status_code == 401
    assert client.get("/api/v1/products", headers={"Authorization": f"Bearer {channel.key}"}).status_code == 200
    with api_app.app_context():
        session = get_db(api_app).session()
        for row in session.scalars(select(ApiClient)):
            row.active = False
        session.commit()
    response = channel.get("/api/v1/products")
    assert response.status_code == 401 and "revoked" in response.get_json()["detail"]


def test_keys_are_stored_as_a_prefix_and_a_sha256_never_in_clear(api_app: Flask, channel: Channel) -> None:
    with api_app.app_context():
        row = get_db(api_app).session().scalars(select(ApiClient)).one()
        assert channel.key not in (row.key_hash, row.key_prefix)
        assert row.key_hash == hashlib.sha256(channel.key.encode()).hexdigest()
        assert channel.key.split("_")[1] == row.key_prefix


def test_unknown_routes_and_methods_answer_problem_json(channel: Channel) -> None:
    missing = channel.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong_method = channel.client.put("/api/v1/products", headers=channel.headers())
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "application/problem+json"


def test_a_creating_post_without_idempotency_key_is_refused_and_writes_nothing(db_app: Flask,
                                                                                db_channel: Channel) -> None:
    response = db_channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}, idempotency_key=None)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["header"] == "Idempotency-Key"
    assert count(db_app, WebhookSubscription) == 0


def test_a_replay_returns_the_first_response_and_creates_nothing_more(db_app: Flask, db_channel: Channel) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["application.*"]}
    first = db_channel.post("/api/v1/webhooks", body, idempotency_key="sub-1")
    again = db_channel.post("/api/v1/webhooks", body, idempotency_key="sub-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert count(db_app, WebhookSubscription) == 1


def test_the_same_key_with_another_body_is_a_409(db_app: Flask, db_channel: Channel) -> None:
    db_channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/a"}, idempotency_key="k")
    response = db_channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/b"}, idempotency_key="k")
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["header"] == "Idempotency-Key"
    assert count(db_app, WebhookSubscription) == 1


def test_idempotency_keys_belong_to_one_channel(db_app: Flask, db_channel: Channel) -> None:
    other = Channel(db_app.test_client(), new_key(db_app, channel="other-partner"))
    body = {"url": "http://127.0.0.1:9/hook"}
    assert db_channel.post("/api/v1/webhooks", body, idempotency_key="shared").status_code == 201
    assert other.post("/api/v1/webhooks", body, idempotency_key="shared").status_code == 201
    assert count(db_app, WebhookSubscription) == 2


def test_a_refused_request_is_not_stored_so_the_key_can_be_retried_corrected(db_app: Flask,
                                                                              db_channel: Channel) -> None:
    bad = db_channel.post("/api/v1/webhooks", {"url": "ftp://x"}, idempotency_key="retry")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/url"
    good = db_channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}, idempotency_key="retry")
    assert good.status_code == 201
    assert count(db_app, IdempotencyRecord) == 1


def test_every_bad_field_is_named_by_its_pointer(channel: Channel) -> None:
    response = channel.post("/api/v1/webhooks", {"events": [], "colour": "red"})
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.get_json()["errors"]}
    assert pointers == {"/colour", "/events", "/url"}


def test_malformed_json_and_wrong_media_type_are_problems(channel: Channel) -> None:
    broken = channel.client.post("/api/v1/webhooks", data="{nope", content_type="application/json",
                                 headers=channel.headers({"Idempotency-Key": "m"}))
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    form = channel.client.post("/api/v1/webhooks", data="url=x", content_type="application/x-www-form-urlencoded",
                               headers=channel.headers({"Idempotency-Key": "f"}))
    assert form.status_code == 415


def test_lists_are_paginated_with_links(db_channel: Channel) -> None:
    for n in range(5):
        assert db_channel.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:9/{n}"}).status_code == 201
    page = db_channel.get("/api/v1/webhooks?per_page=2&page=2").get_json()
    assert [item["url"] for item in page["items"]] == ["http://127.0.0.1:9/2", "http://127.0.0.1:9/3"]
    assert page["page"]["total"] == 5
    assert "page=3" in page["page"]["next"] and "page=1" in page["page"]["prev"]
    bad = db_channel.get("/api/v1/webhooks?per_page=1000")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["parameter"] == "per_page"


def test_another_channels_subscription_is_not_found(api_app: Flask, channel: Channel) -> None:
    created = channel.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}).get_json()
    other = Channel(api_app.test_client(), new_key(api_app, channel="other"))
    assert other.delete(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert channel.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204


@pytest.mark.parametrize("storage", ["local://", "memory://"])
def test_each_key_has_its_own_rate_limit(tmp_path, storage: str) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI=storage)
    slow = Channel(app.test_client(), new_key(app, rate_limit="3/minute"))
    fast = Channel(app.test_client(), new_key(app, channel="fast"))
    answers = [slow.get("/api/v1/products") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3" and "Retry-After" not in answers[0].headers
    limited = slow.get("/api/v1/products")
    assert limited.mimetype == "application/problem+json" and 0 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.get_json()["detail"] == "3 per 1 minute"
    assert fast.get("/api/v1/products").status_code == 200


def test_600_wrong_secrets_with_a_keys_prefix_are_limited_by_address_and_leave_the_key_alone(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI="local://")
    victim = new_key(app)  # 600/minute, the default
    prefix, secret = victim.rsplit("_", 1)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    answers = [attacker.get("/api/v1/products", headers={"X-API-Key": f"{prefix}_{'x' * len(secret)}"})
               for _ in range(600)]
    assert [a.status_code for a in answers] == [401] * 30 + [429] * 570  # API_AUTH_FAILURE_LIMIT 30/minute
    assert answers[-1].mimetype == "application/problem+json" and "Retry-After" in answers[-1].headers
    assert answers[-1].get_json()["detail"] == "failed authentications from this address: 30 per 1 minute"
    for address in ("198.51.100.2", "203.0.113.7"):  # the key's own, and the attacker's (one proxy for both)
        channel = app.test_client()
        channel.environ_base["REMOTE_ADDR"] = address
        served = channel.get("/api/v1/products", headers={"X-API-Key": victim})
        assert served.status_code == 200


def test_calls_without_a_key_are_limited_by_address(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI="local://",
                       API_AUTH_FAILURE_LIMIT="2/minute")
    answers = [app.test_client().get("/api/v1/loans") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2" and answers[0].headers["X-RateLimit-Remaining"] == "1"
    served = Channel(app.test_client(), new_key(app)).get("/api/v1/loans")
    assert served.status_code == 200 and served.headers["X-RateLimit-Remaining"] == "599"


def test_a_key_with_several_limits_is_refused_by_the_first_one_exceeded(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/limits.sqlite3", RATELIMIT_STORAGE_URI="local://")
    burst = Channel(app.test_client(), new_key(app, rate_limit="5/hour;2/second"))
    answers = [burst.get("/api/v1/products") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"  # the shortest window's figures
    assert answers[2].get_json()["detail"] == "2 per 1 second"


def test_the_local_limiter_storage_opens_a_window_with_its_first_hit_and_forgets_it_when_it_ends(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    storage = ratelimit.LocalStorage()
    assert [storage.incr("key:a", 60) for _ in range(3)] == [1, 2, 3]
    assert (storage.get("key:a"), storage.get_expiry("key:a"), storage.get("key:b")) == (3, 1060.0, 0)
    clock[0] = 1059.9
    assert storage.incr("key:a", 60) == 4
    clock[0] = 1060.0
    assert (storage.get("key:a"), storage.get_expiry("key:a")) == (0, 1060.0)
    assert storage.incr("key:a", 60) == 1 and storage.get_expiry("key:a") == 1120.0
    clock[0] = 1000.0 + ratelimit.SWEEP_SECONDS + 200
    storage.incr("key:b", 60)
    assert (storage.get("key:a"), storage.get("key:b"), storage.reset()) == (0, 1, 1)


def test_the_api_opens_no_cookie_session_and_the_admin_still_does(api_app: Flask, channel: Channel) -> None:
    from flask import request

    response = channel.get("/api/v1/products")
    assert response.status_code == 200
    assert "Cookie" not in response.headers.get("Vary", "") and "Set-Cookie" not in response.headers
    sessions = api_app.session_interface
    with api_app.test_request_context("/api/v1/products"):
        assert sessions.open_session(api_app, request) is None  # Flask's null session
    with api_app.test_request_context("/admin/"):
        assert sessions.open_session(api_app, request) is not None
