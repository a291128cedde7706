"""Channel authentication: ``X-API-Key`` (or ``Authorization: Bearer <key>``) on every call but the docs.

The authenticated :class:`~core.channels.keys.ChannelKey` is kept on ``flask.g`` for the request,
so the rate limiter and the views share one lookup. On PostgreSQL the app's
:class:`~core.channels.key_cache.KeyCache` holds the keys' rows and the products' published version ids
across requests, emptied by ``NOTIFY`` within milliseconds of any committed change in any process (at once
in this one), so a request whose key and product it holds sends no statement for them; the key's hash and
its revocation are checked on every request all the same. ``API_KEY_CACHE`` (default on) switches it off,
``API_KEY_CACHE_SECONDS`` (default 60) bounds how long an entry is trusted should a notification be lost.
SQLite has no cache: the key is read on every request.

A view marked :func:`reads_only` (a quote, a product's detail) does no database work but that read (the
offer is cached by version id): on PostgreSQL the read, when the cache cannot answer, runs outside a
transaction, which spares the request a BEGIN and a ROLLBACK, two of its three round trips. Its session's
connection is in autocommit until the request ends; the pool puts the connection back in the engine's
isolation level when it is returned. When the cache answers, no connection is checked out at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from sqlalchemy.engine import Connection

from api.outage import once_more_if_connection_lost
from core.channels.key_cache import DEFAULT_SECONDS, KeyCache
from core.channels.keys import ChannelKey, authenticate, authenticate_for_product
from loanfactory.database import READS_ONLY, db_session, get_db


def presented_key() -> str | None:
    """The key the caller sent, from ``X-API-Key`` or a bearer token."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def reads_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``view`` as one that writes nothing and reads nothing but the key and the published version."""
    setattr(view, READS_ONLY, True)
    return view


def _connection() -> Connection:
    """The request session's connection to read the key on; a :func:`reads_only` view's, on PostgreSQL, in
    autocommit. Called only when the key cache cannot answer."""
    view = current_app.view_functions.get(request.endpoint or "")
    session = db_session()
    if (getattr(view, READS_ONLY, False) and not session.in_transaction()
            and session.get_bind().dialect.name == "postgresql"):
        return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session.connection()


#: ``app.extensions`` key of the app's :class:`KeyCache` (``None``: the app has none)
KEY_CACHE = "loanfactory.api_key_cache"
_KEY_CACHE_MADE = threading.Lock()


def key_cache() -> KeyCache | None:
    """The current app's key cache, made on first use: ``None`` on SQLite or with ``API_KEY_CACHE`` off."""
    extensions = current_app.extensions
    if KEY_CACHE not in extensions:
        with _KEY_CACHE_MADE:
            if KEY_CACHE not in extensions:
                engine = get_db().engine
                on = current_app.config.get("API_KEY_CACHE", True) and engine.dialect.name == "postgresql"
                seconds = float(current_app.config.get("API_KEY_CACHE_SECONDS", DEFAULT_SECONDS))
                extensions[KEY_CACHE] = KeyCache(engine, seconds) if on else None
    cache: KeyCache | None = extensions[KEY_CACHE]
    return cache


def current_client() -> ChannelKey:
    """The channel calling; raises :class:`~core.origination.errors.ChannelAuthError` when unauthenticated.

    On a route of one product (``/products/<code>/...``) the key's row and the product's published version
    id are read in one statement, or taken from the key cache; :func:`published_version_read` gives the id
    to the view."""
    client: ChannelKey | None = g.get("api_client")
    if client is None:
        client = g.api_client = once_more_if_connection_lost(_authenticated)
    return client


def _authenticated() -> ChannelKey:
    code = (request.view_args or {}).get("code")
    if isinstance(code, str):
        client, version_id = authenticate_for_product(_connection, presented_key(), code, key_cache())
        g.api_published_version = (code, version_id)
        return client
    return authenticate(_connection, presented_key(), key_cache())


def published_version_read(code: str) -> tuple[bool, int | None]:
    """Whether this request read the published version id of ``code`` with its key, and the id read."""
    read: tuple[str, int | None] | None = g.get("api_published_version")
    return (True, read[1]) if read is not None and read[0] == code else (False, None)
