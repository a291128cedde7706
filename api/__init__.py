"""The channel API: a blueprint under ``/api/v1`` generated from the published products.

``init_app(app)`` registers the blueprint and its pieces: problem+json errors (:mod:`api.problems`),
API-key authentication (:mod:`api.auth`), rate limits (:mod:`api.ratelimit`: each key's own for the requests
it authenticates, and ``API_AUTH_FAILURE_LIMIT`` for failed authentications by address; fixed windows of the
``limits`` library; ``RATELIMIT_STORAGE_URI`` is ``local://`` in the embedded default, this process's counters
without ``memory://``'s sweeping thread, and ``redis://...`` in production), the OpenAPI documents
(:mod:`api.openapi`), Swagger UI at ``/api/docs`` from vendored files, and webhook delivery
(:mod:`api.webhooks`). Routes are generic (``/products/<code>/...``): Flask refuses new routes after the
first request, so each request looks the published product up instead.
"""

from __future__ import annotations

from flask import Flask, Request, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from api import ratelimit
from api.auth import current_client
from api.blueprint import PUBLIC_ENDPOINTS, make_blueprint
from api.problems import register_handlers
from core.channels import idempotency, keys, webhooks  # noqa: F401  (their tables)
from core.origination import approval, booking  # noqa: F401  (their tables)
from core.origination.errors import ChannelAuthError

URL_PREFIX = "/api/v1"
EXTENSION = "loanfactory.api"
DEFAULT_RATE_LIMIT = "600/minute"
#: the largest request body the app reads unless ``MAX_CONTENT_LENGTH`` says otherwise (413 beyond it)
MAX_BODY_BYTES = 1024 * 1024


def init_app(app: Flask) -> None:
    """Attach the channel API to ``app``."""
    from api import docs
    from api.webhooks import init_webhooks

    bp = make_blueprint()
    app.config.setdefault("RATELIMIT_STORAGE_URI", ratelimit.DEFAULT_URI)
    app.config.setdefault("API_RATE_LIMIT_ENABLED", True)
    app.config.setdefault("API_AUTH_FAILURE_LIMIT", ratelimit.DEFAULT_FAILURE_LIMIT)
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default: no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    limiter = ratelimit.ChannelLimiter(app)
    bp.before_request(_admit)
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


def _admit() -> None:
    """Authenticate the caller and count the request: against its key once authenticated, against the
    caller's address when it fails."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    limiter: ratelimit.ChannelLimiter = current_app.extensions[EXTENSION]
    try:
        client = current_client()
    except ChannelAuthError:
        limiter.count_failure(request.remote_addr or "unknown")
        raise
    limiter.check(client.rate_limit or DEFAULT_RATE_LIMIT, str(client.id))
