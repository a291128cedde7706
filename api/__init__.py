"""The channel API: a blueprint under ``/api/v1`` generated from the published products.

``init_app(app)`` registers the blueprint and its pieces: problem+json errors (:mod:`api.problems`),
API-key authentication (:mod:`api.auth`), a per-key rate limit (:mod:`api.ratelimit`, fixed windows of the
``limits`` library; ``RATELIMIT_STORAGE_URI`` is ``local://`` in the embedded default, this process's counters
without ``memory://``'s sweeping thread, and ``redis://...`` in production), the OpenAPI documents
(:mod:`api.openapi`), Swagger UI at ``/api/docs`` from vendored files, and webhook delivery
(:mod:`api.webhooks`). Routes are generic (``/products/<code>/...``): Flask refuses new routes after the
first request, so each request looks the published product up instead.
"""

from __future__ import annotations

from flask import Flask, Request, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from api import ratelimit
from api.auth import current_client, rate_limit_key
from api.blueprint import PUBLIC_ENDPOINTS, make_blueprint
from api.problems import register_handlers
from core.channels import idempotency, keys, webhooks  # noqa: F401  (their tables)
from core.errors import LoanFactoryError
from core.origination import approval, booking  # noqa: F401  (their tables)

URL_PREFIX = "/api/v1"
EXTENSION = "loanfactory.api"
DEFAULT_RATE_LIMIT = "600/minute"


def _client_rate_limit() -> str:
    try:
        return current_client().rate_limit or DEFAULT_RATE_LIMIT
    except LoanFactoryError:
        return DEFAULT_RATE_LIMIT


def _exempt() -> bool:
    return request.endpoint in PUBLIC_ENDPOINTS


def init_app(app: Flask) -> None:
    """Attach the channel API to ``app``."""
    from api import docs
    from api.webhooks import init_webhooks

    bp = make_blueprint()
    app.config.setdefault("RATELIMIT_STORAGE_URI", ratelimit.DEFAULT_URI)
    app.config.setdefault("API_RATE_LIMIT_ENABLED", True)
    limiter = ratelimit.ChannelLimiter(app, _client_rate_limit, rate_limit_key, _exempt)
    bp.before_request(limiter.check)
    bp.before_request(_authenticate)
    bp.after_request(limiter.headers)
    register_handlers(app, bp, URL_PREFIX)
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
    app.register_blueprint(docs.make_docs_blueprint(), url_prefix="/api")
    init_webhooks(app)
    app.extensions[EXTENSION] = limiter
    app.session_interface = _CookieSessionsOutsideTheApi()


class _CookieSessionsOutsideTheApi(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions for the admin and the sign-in pages; the API is authenticated by its key
    and never reads a cookie, so its requests get Flask's null session (reads see it empty, a write fails) and
    skip the cookie's signing serializer, its parse and the ``Vary: Cookie`` of a session read."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(URL_PREFIX + "/"):
            return None
        return super().open_session(app, request)


def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    g.api_client = current_client()
