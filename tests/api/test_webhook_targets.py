"""Webhooks reach public receivers only: refused at subscription and again at each delivery, sent to the
address that was checked, never redirected, and a failure shows the channel a status, not a socket's words.

Every receiver here listens on 127.0.0.1. Names the tests invent (``*.test``) resolve through
:func:`core.channels.targets.resolve`, which each test replaces; no packet leaves the machine.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from core.channels import targets
from core.channels.targets import TargetPolicy, address_allowed
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

#: an address outside every reserved range, which the tests only ever name (it is never connected to)
PUBLIC = "93.184.216.34"


class Resolver:
    """The DNS the tests control: each name's addresses, changeable between subscription and delivery."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}

    def __call__(self, host: str, port: int) -> list[str]:
        return self.names.get(host, []) if host.endswith(".test") else real_resolve(host, port)


real_resolve = targets.resolve


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(targets, "resolve", resolver)
    return resolver


def app_on(tmp_path: Path, **config: Any) -> Iterator[Flask]:
    app = make_api_app(f"sqlite:///{tmp_path}/targets.sqlite3", **PAYMENT_PLUGINS, **config)
    publish_sample(app, "consumer_installment")
    yield app
    webhooks_sent(app)
    get_db(app).engine.dispose()


@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[Flask]:
    """A production-like app: public https receivers only."""
    yield from app_on(tmp_path, API_WEBHOOKS_ALLOW_LOOPBACK=False)


@pytest.fixture
def local_app(tmp_path: Path) -> Iterator[Flask]:
    """The tests' app: receivers on this machine allowed."""
    yield from app_on(tmp_path)


class Listener:
    """A bare TCP socket on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:6379/",
    "http://[::1]:5432/",
    "https://10.0.0.5/hook",
    "https://192.168.1.1/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://0.0.0.0/hook",
    "https://0x7f.1/hook",
    "https://2130706433/hook",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
])
def test_a_subscription_to_an_inside_address_is_refused_naming_the_url(strict_app: Flask, url: str) -> None:
    channel = Channel(strict_app.test_client(), new_key(strict_app))
    refused = channel.post("/api/v1/webhooks", {"url": url})
    assert refused.status_code == 422, refused.get_json()
    assert [e["pointer"] for e in refused.get_json()["errors"]] == ["/url"]
    assert channel.get("/api/v1/webhooks").get_json()["items"] == []


def test_a_name_is_refused_when_any_of_its_addresses_is_inside_or_it_does_not_resolve(strict_app: Flask,
                                                                                       dns: Resolver) -> None:
    dns.names = {"split.test": [PUBLIC, "10.1.2.3"], "public.test": [PUBLIC]}
    channel = Channel(strict_app.test_client(), new_key(strict_app))
    for url in ("https://split.test/hook", "https://nowhere.test/hook"):
        refused = channel.post("/api/v1/webhooks", {"url": url})
        assert refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == "/url"
        # the same words whatever the reason: they must not tell which names exist inside
        assert "public internet addresses only" in refused.get_json()["errors"][0]["detail"]
    assert channel.post("/api/v1/webhooks", {"url": "https://public.test/hook"}).status_code == 201


def test_plain_http_is_refused_unless_the_deployment_allows_it(tmp_path: Path, dns: Resolver) -> None:
    dns.names = {"public.test": [PUBLIC]}
    for allow_http, status in ((False, 422), (True, 201)):
        app = make_api_app(f"sqlite:///{tmp_path}/http-{allow_http}.sqlite3", API_WEBHOOKS_ALLOW_HTTP=allow_http)
        channel = Channel(app.test_client(), new_key(app))
        answer = channel.post("/api/v1/webhooks", {"url": "http://public.test/hook"})
        assert answer.status_code == status, answer.get_json()
        webhooks_sent(app)
        get_db(app).engine.dispose()


def test_the_address_policy_judges_the_ipv4_inside_an_ipv6_address() -> None:
    strict, local = TargetPolicy(), TargetPolicy(allow_loopback=True)
    assert address_allowed(PUBLIC, strict) and address_allowed(f"::ffff:{PUBLIC}", strict)
    assert address_allowed("2606:4700:4700::1111", strict)
    for inside in ("::ffff:10.0.0.1", "2002:a00:1::1", "2002:7f00:1::1", "::", "::1", "127.0.0.1", "169.254.1.1",
                   "172.16.0.1", "198.18.0.1", "not-an-address"):
        assert not address_allowed(inside, strict), inside
    assert address_allowed("127.0.0.1", local) and address_allowed("::1", local)
    assert not address_allowed("10.0.0.1", local) and not address_allowed("169.254.169.254", local)


def test_delivery_checks_the_name_again_and_refuses_it_once_it_resolves_inside(strict_app: Flask,
                                                                               dns: Resolver) -> None:
    """DNS rebinding: public when subscribed, 127.0.0.1 when delivered to. Nothing connects to it."""
    inside = Listener()
    try:
        dns.names = {"rebind.test": [PUBLIC]}
        channel = Channel(strict_app.test_client(), new_key(strict_app))
        hook = channel.post("/api/v1/webhooks", {"url": f"https://rebind.test:{inside.port}/hook",
                                                 "events": ["application.approved"]}).get_json()
        dns.names = {"rebind.test": ["127.0.0.1"]}
        assert channel.post(APPLY, application_body()).status_code == 201
        webhooks_sent(strict_app)
        (event,) = channel.get(f"/api/v1/webhooks/{hook['id']}/events").get_json()["items"]
        assert (event["status"], event["last_error"]) == ("pending", "address_refused")
        assert inside.connections == 0
    finally:
        inside.close()


def test_delivery_connects_to_the_address_that_was_checked_and_keeps_the_name(local_app: Flask,
                                                                              dns: Resolver) -> None:
    """``receiver.test`` exists only in the checked answer: the POST reaches it only through that address."""
    receiver = Receiver()
    try:
        port = receiver.server.server_address[1]
        dns.names = {"receiver.test": ["127.0.0.1"]}
        channel = Channel(local_app.test_client(), new_key(local_app))
        channel.post("/api/v1/webhooks", {"url": f"http://receiver.test:{port}/hooks?shop=1",
                                          "events": ["application.approved"]})
        assert channel.post(APPLY, application_body()).status_code == 201
        webhooks_sent(local_app)
        ((headers, _body),) = receiver.deliveries
        assert headers["host"] == f"receiver.test:{port}"
    finally:
        receiver.close()


class Redirecting(Receiver):
    """Answers every POST with a 302 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__()
        handler = self.server.RequestHandlerClass

        def do_post(request: Any) -> None:
            request.rfile.read(int(request.headers["Content-Length"]))
            request.send_response(302)
            request.send_header("Location", location)
            request.end_headers()

        handler.do_POST = do_post  # type: ignore[method-assign]


def test_a_redirect_is_not_followed_and_the_channel_sees_its_status(local_app: Flask) -> None:
    target = Receiver()
    redirecting = Redirecting(target.url)
    try:
        channel = Channel(local_app.test_client(), new_key(local_app))
        hook = channel.post("/api/v1/webhooks", {"url": redirecting.url, "events": ["application.approved"]})
        assert channel.post(APPLY, application_body()).status_code == 201
        webhooks_sent(local_app)
        (event,) = channel.get(f"/api/v1/webhooks/{hook.get_json()['id']}/events").get_json()["items"]
        assert (event["status"], event["last_error"]) == ("pending", "http_302")
        assert target.deliveries == []
    finally:
        redirecting.close()
        target.close()


def test_a_receiver_that_does_not_answer_shows_a_status_never_the_socket_error(local_app: Flask) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the connection is refused
    channel = Channel(local_app.test_client(), new_key(local_app))
    hook = channel.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook",
                                             "events": ["application.approved"]}).get_json()
    assert channel.post(APPLY, application_body()).status_code == 201
    webhooks_sent(local_app)
    (event,) = channel.get(f"/api/v1/webhooks/{hook['id']}/events").get_json()["items"]
    assert (event["status"], event["attempts"], event["last_error"]) == ("pending", 1, "no_answer")
