"""Every response (admin, API, API docs) carries the security headers; personal data is never cached;
``Retry-After`` only on 429 and 503; the embedded server announces no version."""

from __future__ import annotations

import threading
import urllib.request

import pytest
from flask import Response
from werkzeug.serving import make_server

from loanfactory.security import QuietRequestHandler

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_secured(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("url", ["/admin/login", "/admin/", "/api/v1/products", "/api/docs", "/api/docs/init.js",
                                 "/api/v1/openapi.json", "/admin/no-such-page"])
def test_every_face_sends_the_security_headers(app, url):
    assert_secured(app.test_client().get(url))


def test_the_api_docs_page_has_no_inline_script(app):
    page = app.test_client().get("/api/docs").get_data(as_text=True)
    assert page.count("<script") == page.count("<script src=") == 3


def test_a_pii_reveal_is_never_stored_by_a_cache(app, login, loan_id):
    officer = login("risk_officer")
    officer.get(f"/admin/loans/{loan_id}")
    shown = officer.post(f"/admin/loans/{loan_id}/reveal", {"reason": "核实客户身份"})
    assert shown.status_code == 200 and "11010519491231002X" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_cache_rules(app):
    assert app.test_client().get("/api/docs/static/swagger-ui.css").headers["Cache-Control"] != "no-store"


def test_retry_after_stays_only_on_429_and_503(app):
    @app.get("/probe/<int:status>")
    def probe(status: int) -> Response:
        return Response("", status=status, headers={"Retry-After": "5"})

    client = app.test_client()
    assert {status: "Retry-After" in client.get(f"/probe/{status}").headers for status in (200, 409, 429, 503)} == {
        200: False, 409: False, 429: True, 503: True}


def test_the_embedded_server_announces_no_version(app):
    server = make_server("127.0.0.1", 0, app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/admin/login", timeout=10) as response:
        headers = response.headers
    thread.join(10)
    server.server_close()
    assert "Server" not in headers and headers["Date"]
