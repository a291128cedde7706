"""The API's rate limiter (:class:`ChannelLimiter`) and its in-process storage: fixed-window counters that expire
when read, no helper thread.

``limits``' own ``memory://`` storage sweeps expired counters on a ``threading.Timer`` of 10 ms that it starts
again on the next hit whenever the last one has ended: behind an API that takes more than one request per
10 ms that is a thread started on nearly every request, and the request waits for the new thread to run.
:class:`LocalStorage` (``local://``) keeps the same fixed-window counters (a window opens with its first hit
and lasts the limit's period), treats a counter whose window has ended as zero when it is read, and drops
the ended ones in one sweep at most every :data:`SWEEP_SECONDS`, inline. Like ``memory://`` it counts per
process: production shares the counts of every process in Redis (``redis://...``).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from flask import Flask, Response, g
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from api.problems import ApiProblem

SWEEP_SECONDS = 60.0
#: the embedded default of ``RATELIMIT_STORAGE_URI``
DEFAULT_URI = "local://"


class LocalStorage(Storage):
    """Fixed-window counters of this process (the ``fixed-window`` strategy, the limiter's default)."""

    STORAGE_SCHEME = ["local"]  # noqa: RUF012  (the type the base class declares)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        self._counts: dict[str, int] = {}
        self._ends: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = time.time() + SWEEP_SECONDS
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits of ``key``; the first hit of a window opens it for ``expiry`` seconds."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            if self._ends.get(key, 0.0) <= now:
                self._counts[key] = 0
                self._ends[key] = now + expiry
            count = self._counts[key] = self._counts[key] + amount
        return count

    def get(self, key: str) -> int:
        """The hits of ``key`` in its current window (0 once the window has ended)."""
        with self._lock:
            return self._counts.get(key, 0) if self._ends.get(key, 0.0) > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When the current window of ``key`` ends (now when there is none)."""
        now = time.time()
        with self._lock:
            end = self._ends.get(key, now)
        return end if end > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            dropped = len(self._counts)
            self._counts.clear()
            self._ends.clear()
        return dropped

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
            self._ends.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [key for key, end in self._ends.items() if end <= now]:
            del self._ends[key]
            self._counts.pop(key, None)
        self._next_sweep = now + SWEEP_SECONDS


logger = logging.getLogger(__name__)


def _storage_away(error: StorageError) -> None:
    logger.warning("the rate limit's storage is not answering (%s): this request is let through uncounted", error)


#: what every counter's key starts with
KEY_PREFIX = "loanfactory-api"
SCOPE = "channel"
#: the scope of the counters of failed authentications, by address
FAILURES = "auth-failures"
#: the embedded default of ``API_AUTH_FAILURE_LIMIT``
DEFAULT_FAILURE_LIMIT = "30/minute"


@lru_cache(maxsize=256)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """``"600/minute;10/second"`` as limit items, shortest window first (a key's limit changes rarely)."""
    return tuple(sorted(parse_many(limits)))


class ChannelLimiter:
    """The API's rate limits: each key's own, and failed authentications by address; fixed windows counted in
    ``RATELIMIT_STORAGE_URI``.

    Only an authenticated request counts against its key (:meth:`check`, limit ``rate_limit`` of the key):
    a request that shows a key's public prefix with a wrong secret is not the key's, and counting it there
    would let anyone who saw the prefix lock the channel out. A request that fails to authenticate counts
    against its address instead (:meth:`count_failure`, limit ``API_AUTH_FAILURE_LIMIT``): past that limit
    its failures are answered 429 rather than 401 until the window ends. A request that authenticates is
    never refused for its address's failures, so callers behind one proxy cannot lock each other out.

    It does what flask-limiter's shared limit on the blueprint did, without re-resolving the limit's
    decorators, scopes and exemptions on every request: :meth:`check` (before the blueprint's views) counts
    the request against each limit of the key's ``rate_limit``, shortest window first, and refuses the first
    one exceeded with a 429; :meth:`headers` (after them) adds ``X-RateLimit-Limit``, ``-Remaining``,
    ``-Reset`` for that limit, or the shortest window's, and on a 429 ``Retry-After`` (seconds until the window
    ends).
    The counters' keys are flask-limiter's (prefix, caller, scope), so counts in a shared store carry over.
    While the store does not answer (Redis restarting), requests are let through uncounted and without the
    headers, and each is logged: a limit is there to share the servers fairly, and refusing everyone because
    its store is away would take down the API it protects.

    Each check refuses the first limit exceeded, shortest window first, with a 429; :meth:`headers` (after the
    views) adds ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset`` and ``Retry-After`` (seconds until the window
    ends) for the limit the request was counted against. A counter's key is flask-limiter's layout: prefix,
    caller (``key:<id>`` or ``addr:<address>``), scope.
    """

    def __init__(self, app: Flask) -> None:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True,
                                      **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
        self.window = FixedWindowRateLimiter(storage)
        self.enabled = bool(app.config["API_RATE_LIMIT_ENABLED"])
        self.failure_limit = str(app.config["API_AUTH_FAILURE_LIMIT"])

    def check(self, limits: str, key: str) -> None:
        """Count an authenticated request against its key's ``limits`` (``"600/minute"``, several separated by
        ``;``; ``key``: the key's id); raise a 429 :class:`~api.problems.ApiProblem` when one is exceeded."""
        self._hit(limits, f"key:{key}", SCOPE)

    def count_failure(self, address: str) -> None:
        """Count a failed authentication from ``address``; raise a 429 when it is one too many."""
        self._hit(self.failure_limit, f"addr:{address}", FAILURES, "failed authentications from this address: ")

    def _hit(self, limits: str, caller: str, scope: str, what: str = "") -> None:
        if not self.enabled:
            return
        items = _parsed(limits)
        g.api_rate_limit = (items[0], caller, scope)
        for item in items:
            try:
                allowed = self.window.hit(item, KEY_PREFIX, caller, scope)
            except StorageError as error:
                g.api_rate_limit = None
                _storage_away(error)
                return
            if not allowed:
                g.api_rate_limit = (item, caller, scope)
                raise ApiProblem(429, "Too Many Requests", f"{what}{item}", slug="too-many-requests")

    def headers(self, response: Response) -> Response:
        """Add the rate-limit headers of the limit this request was counted against."""
        counted: tuple[RateLimitItem, str, str] | None = g.get("api_rate_limit")
        if counted is not None:
            item, caller, scope = counted
            try:
                reset, remaining = self.window.get_window_stats(item, KEY_PREFIX, caller, scope)
            except StorageError as error:
                _storage_away(error)
                return response
            reset_at = int(reset + 1)
            response.headers["X-RateLimit-Limit"] = str(item.amount)
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(reset_at)
            if response.status_code == 429:
                response.headers["Retry-After"] = str(max(int(reset_at - time.time()), 0))
        return response
