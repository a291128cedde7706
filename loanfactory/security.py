"""What makes the app fit to face channels and staff: its secrets checked at start-up, and the headers every
response carries.

Modes. The app is in production unless a caller says otherwise: ``DEMO`` (``loanfactory serve --demo``,
``./dev run``, ``LOANFACTORY_DEMO=true``) or Flask's ``TESTING`` (the test suite). In production
:func:`check_secrets` refuses to start, with one :class:`InsecureSettingsError` naming every setting at
fault, while ``SECRET_KEY`` is unset, short or published in the source, while the PII keys are
(:func:`core.customers.pii.key_problems`), or while a plugin reports a problem with its own settings (the
``config_problems`` hook: the sandbox bank's ``callback_secret``). In the demo and the tests an unset
``SECRET_KEY`` becomes a random one for the process (sessions end when it stops) and the PII keys and the
bank's secret fall back to their labelled development values.

Headers (:func:`init_app`): every response gets a Content-Security-Policy that allows scripts from this
origin only (no inline script, no ``eval``) and no framing, ``X-Frame-Options: DENY``,
``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``; a response that chose no
``Cache-Control`` gets ``no-store`` (admin pages and API answers carry personal data; static files set their
own); ``Retry-After`` stays only on 429 and 503. ``TRUSTED_PROXIES`` (default 0) is how many proxies in
front of the app set ``X-Forwarded-For`` and ``X-Forwarded-Proto``: the sign-in throttle counts by the
address they report. ``SESSION_COOKIE_SECURE`` defaults to on in production.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from core.customers.pii import key_problems
from core.errors import LoanFactoryError
from loanfactory.plugins_host import get_plugins

#: the shortest ``SECRET_KEY`` accepted in production (``secrets.token_urlsafe(32)`` gives 43)
MIN_SECRET_KEY_LENGTH = 32
#: values of ``SECRET_KEY`` published in this repository's history
KNOWN_SECRET_KEYS = frozenset({"dev-only-change-me", "test-secret"})

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    # inline style attributes in the admin's templates and Swagger UI's rendering; scripts stay strict
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
RETRY_AFTER_STATUSES = frozenset({429, 503})


class InsecureSettingsError(LoanFactoryError):
    """Raised by :func:`check_secrets` in production when secrets are missing or known defaults;
    ``value`` lists every problem, each naming its setting."""


def is_demo_or_test(app: Flask) -> bool:
    """Whether ``app`` runs the demo or the tests, where development secrets are allowed."""
    return bool(app.config.get("DEMO") or app.config.get("TESTING"))


def secret_key_problems(value: Any) -> list[str]:
    """What makes ``value`` unfit as Flask's ``SECRET_KEY`` (it signs the admin's session cookie)."""
    if not value:
        return ["SECRET_KEY is not set (LOANFACTORY_SECRET_KEY)"]
    if str(value) in KNOWN_SECRET_KEYS:
        return ["SECRET_KEY is a value published in the source"]
    if len(str(value)) < MIN_SECRET_KEY_LENGTH:
        return [f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"]
    return []


def check_secrets(app: Flask) -> None:
    """Refuse to run ``app`` in production with a missing or known secret; in the demo and the tests, give
    it a random ``SECRET_KEY`` when none is set.

    Raises:
        InsecureSettingsError: in production, naming every problem (Flask's, the PII keys', the plugins').
    """
    if is_demo_or_test(app):
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
        return
    problems = [*secret_key_problems(app.config.get("SECRET_KEY")), *key_problems(),
                *get_plugins(app).config_problems()]
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise InsecureSettingsError(
            f"refusing to start outside the demo with missing or published secrets:\n{listed}\n"
            "Set them as docs/operations.md (Security) says, or run the demo (loanfactory serve --demo).",
            field="secrets", value=problems)


def _secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    """The security headers on every response, the proxies trusted for the client's address, secure cookies
    in production."""
    app.after_request(_secure_headers)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not is_demo_or_test(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the ``Server: Werkzeug/x Python/y`` banner."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
