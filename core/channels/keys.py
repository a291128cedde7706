"""Sales channels and their API keys.

A channel (the lender's own app, a partner platform, a 助贷 partner) calls the API with a key of the
form ``lf_<prefix>_<secret>``. Only the prefix (public, unique, used to find the row and as the rate-limit
key) and the SHA-256 of the whole key are stored; the plaintext is shown once, when the key is issued.
A plain SHA-256 is enough here because the secret is 32 random bytes, not a password a person chose:
there is nothing to guess, and a slow hash (argon2) would cost every API call tens of milliseconds.

A key's ``scopes`` are the product codes it may sell (``*`` for every published product).

Every API call authenticates, so :func:`authenticate` reads the key's row with one prepared Core
statement (built once, no ORM loading, run on a connection: the session's own ``execute`` would add its
ORM dispatch for nothing) into a :class:`ChannelKey`, a read-only snapshot of the row for the request;
:func:`authenticate_for_product` reads the published version of a product in the same statement, for the
calls that name one. Given a :class:`~core.channels.key_cache.KeyCache` (PostgreSQL), they take the
row and the version id from it when it holds them and send no statement; the hash and the revocation are
checked on every call all the same, and the cache is emptied within milliseconds of any committed change to
either table, in every process (at once in the process that made it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.channels import key_cache
from core.channels.key_cache import KeyCache, Missing
from core.db.base import Base
from core.errors import InvalidArgumentError
from core.origination.errors import ChannelAuthError, ChannelScopeError
from core.origination.published import PUBLISHED_ID_OF_CODE
from core.products.models import ProductVersion

KEY_PREFIX = "lf"
CHANNEL_CODE = re.compile(r"[A-Za-z0-9_-]{1,60}")
ALL_PRODUCTS = "*"


def _now() -> datetime:
    return datetime.now(UTC)


class ApiClient(Base):
    """A channel's API key: prefix, hash, the products it may sell, its rate limit and webhook secret.

    ``channel`` is the channel's code (recorded on its applications, usable in product conditions, owner of
    its webhook subscriptions); a channel may hold several keys, for rotation.
    """

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    rate_limit: Mapped[str] = mapped_column(String(60), default="600/minute")
    webhook_secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class ChannelKey:
    """An authenticated key as a request sees it: its id, channel, scopes and rate limit."""

    id: int
    channel: str
    scopes: tuple[str, ...]
    rate_limit: str

    def may_sell(self, product_code: str) -> bool:
        """True when this key's scopes include ``product_code`` (or every product)."""
        return ALL_PRODUCTS in self.scopes or product_code in self.scopes

    def require_scope(self, product_code: str) -> None:
        """Raise :class:`ChannelScopeError` unless this key may sell ``product_code``."""
        if not self.may_sell(product_code):
            raise ChannelScopeError(
                f"product_code: this API key may not sell product {product_code!r}",
                field="product_code",
                value=product_code,
            )


_CLIENTS = cast(Table, ApiClient.__table__)
#: a Core statement on the table, built once: the ORM's per-statement work would cost more than the query
_KEY_ROW = select(_CLIENTS.c.id, _CLIENTS.c.channel, _CLIENTS.c.scopes, _CLIENTS.c.rate_limit, _CLIENTS.c.key_hash,
                  _CLIENTS.c.active).where(_CLIENTS.c.key_prefix == bindparam("prefix"))
_KEY_ROW_AND_PUBLISHED = _KEY_ROW.add_columns(PUBLISHED_ID_OF_CODE.label("published_version"))
# the key cache is emptied on every change of the two tables those statements read
key_cache.watch(ApiClient)
key_cache.watch(ProductVersion)

#: how a caller hands over the connection to read with: called only when the cache cannot answer
Connect = Callable[[], Connection]


class KeyRow(NamedTuple):
    """The columns of a key's row that authenticate it, as :data:`_KEY_ROW` reads them and a cache keeps them."""

    id: int
    channel: str
    scopes: tuple[str, ...]
    rate_limit: str
    key_hash: str
    active: bool

    @classmethod
    def of(cls, row: Any) -> KeyRow:
        """The snapshot of a row read by either statement."""
        return cls(row.id, row.channel, tuple(row.scopes), row.rate_limit, row.key_hash, row.active)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(
    session: Session, channel: str, scopes: list[str], *, name: str | None = None, rate_limit: str = "600/minute"
) -> tuple[ApiClient, str]:
    """Create a key for ``channel`` and return the row and the plaintext key (shown once, never stored).

    Raises:
        InvalidArgumentError: ``channel`` is not a code of letters, digits, ``-`` and ``_``, or ``scopes``
            is empty.
    """
    if not CHANNEL_CODE.fullmatch(channel or ""):
        raise InvalidArgumentError("channel: use 1-60 letters, digits, '-' or '_'", field="channel", value=channel)
    if not scopes:
        raise InvalidArgumentError("scopes: name at least one product code, or '*'", field="scopes", value=scopes)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(
        channel=channel,
        name=(name or channel).strip(),
        key_prefix=prefix,
        key_hash=_digest(key),
        scopes=list(scopes),
        rate_limit=rate_limit,
        webhook_secret=secrets.token_hex(32),
        active=True,
    )
    session.add(client)
    session.flush()
    return client, key


def key_prefix_of(key: str) -> str | None:
    """The public prefix of a well-formed key, else ``None``."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def authenticate(connection: Connect, key: str | None, cache: KeyCache | None = None) -> ChannelKey:
    """The active channel owning ``key``; its row is read on ``connection()`` unless ``cache`` holds it.

    A caller with a session passes ``session.connection``.

    Raises:
        ChannelAuthError: the key is missing, malformed, unknown, wrong or revoked.
    """
    prefix = _prefix(key)
    row = cache.key_row(prefix) if cache is not None else None
    if row is None:
        generation = cache.generation() if cache is not None else None
        row = connection().execute(_KEY_ROW, {"prefix": prefix}).one_or_none()
        if row is not None and cache is not None:
            cache.keep(generation, prefix, KeyRow.of(row))
    return _authenticated(key, row)


def authenticate_for_product(connection: Connect, key: str | None, product_code: str,
                             cache: KeyCache | None = None) -> tuple[ChannelKey, int | None]:
    """:func:`authenticate`, and the id of the published version of ``product_code`` (``None`` when none is),
    read in the same statement unless ``cache`` holds both: a quote or an application needs both.

    Raises:
        ChannelAuthError: the key is missing, malformed, unknown, wrong or revoked.
    """
    prefix = _prefix(key)
    generation = None
    if cache is not None:
        row, version_id = cache.key_row(prefix), cache.published_id(product_code)
        if row is not None and not isinstance(version_id, Missing):
            return _authenticated(key, row), version_id
        generation = cache.generation()
    row = connection().execute(_KEY_ROW_AND_PUBLISHED, {"prefix": prefix, "code": product_code}).one_or_none()
    if row is not None and cache is not None:
        cache.keep(generation, prefix, KeyRow.of(row), product_code, row.published_version)
    return _authenticated(key, row), None if row is None else row.published_version


def _prefix(key: str | None) -> str:
    if not key:
        raise ChannelAuthError("X-API-Key: an API key is required", field="header:X-API-Key")
    prefix = key_prefix_of(key)
    if prefix is None:
        raise ChannelAuthError("X-API-Key: malformed API key", field="header:X-API-Key")
    return prefix


def _authenticated(key: str | None, row: Any) -> ChannelKey:
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key or "")):
        raise ChannelAuthError("X-API-Key: unknown API key", field="header:X-API-Key")
    if not row.active:
        raise ChannelAuthError("X-API-Key: this API key has been revoked", field="header:X-API-Key")
    return ChannelKey(id=row.id, channel=row.channel, scopes=tuple(row.scopes), rate_limit=row.rate_limit)


def revoke(client: ApiClient) -> None:
    """Revoke ``client``'s key; every later call with it is refused."""
    client.active = False


def describe(client: ApiClient) -> dict[str, Any]:
    """A channel's public description (never the key or its hash)."""
    return {"id": client.id, "channel": client.channel, "name": client.name, "key_prefix": client.key_prefix,
            "scopes": list(client.scopes), "rate_limit": client.rate_limit, "active": client.active}
