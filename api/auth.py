"""Channel authentication: ``X-API-Key`` (or ``Authorization: Bearer <key>``) on every call but the docs.

The authenticated :class:`~core.origination.channels.ChannelKey` is cached on ``flask.g`` for the request,
so the rate limiter and the views share one lookup. The key is read on every request, never cached across
requests, so a revoked key is refused at once by every process.

A view marked :func:`reads_only` (a quote, a product's detail) does no database work but that read (the
offer is cached by version id): on PostgreSQL the read runs outside a transaction, which spares the request
a BEGIN and a ROLLBACK, two of its three round trips. Its session's connection is in autocommit until the
request ends; the pool puts the connection back in the engine's isolation level when it is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from core.origination.channels import ChannelKey, authenticate, authenticate_for_product, key_prefix_of
from loanfactory.database import db_session


def presented_key() -> str | None:
    """The key the caller sent, from ``X-API-Key`` or a bearer token."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


#: the attribute :func:`reads_only` sets on a view function
READS_ONLY = "loanfactory_reads_only"


def reads_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``view`` as one that writes nothing and reads nothing but the key and the published version."""
    setattr(view, READS_ONLY, True)
    return view


def _read_outside_transaction() -> None:
    """On PostgreSQL, put the session of a :func:`reads_only` view in autocommit before its first read."""
    view = current_app.view_functions.get(request.endpoint or "")
    session = db_session()
    if (getattr(view, READS_ONLY, False) and not session.in_transaction()
            and session.get_bind().dialect.name == "postgresql"):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def current_client() -> ChannelKey:
    """The channel calling; raises :class:`~core.origination.errors.ChannelAuthError` when unauthenticated.

    On a route of one product (``/products/<code>/...``) the key's row and the product's published version
    id are read in one statement; :func:`published_version_read` gives the id to the view."""
    client: ChannelKey | None = g.get("api_client")
    if client is None:
        code = (request.view_args or {}).get("code")
        _read_outside_transaction()
        if isinstance(code, str):
            client, version_id = authenticate_for_product(db_session(), presented_key(), code)
            g.api_published_version = (code, version_id)
        else:
            client = authenticate(db_session(), presented_key())
        g.api_client = client
    return client


def published_version_read(code: str) -> tuple[bool, int | None]:
    """Whether this request read the published version id of ``code`` with its key, and the id read."""
    read: tuple[str, int | None] | None = g.get("api_published_version")
    return (True, read[1]) if read is not None and read[0] == code else (False, None)


def rate_limit_key() -> str:
    """What the limiter counts by: the key's public prefix, or the caller's address without a key."""
    key = presented_key()
    prefix = key_prefix_of(key) if key else None
    return f"key:{prefix}" if prefix else f"addr:{request.remote_addr}"
