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

import threading
import time
from collections.abc import Callable
from functools import lru_cache

from flask import Flask, Response, g
from limits import RateLimitItem, parse_many
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


#: what every counter's key starts with (flask-limiter's layout before: the same keys, the same counts)
KEY_PREFIX = "loanfactory-api"
SCOPE = "channel"


@lru_cache(maxsize=256)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """``"600/minute;10/second"`` as limit items, shortest window first (a key's limit changes rarely)."""
    return tuple(sorted(parse_many(limits)))


class ChannelLimiter:
    """The per-key rate limit of the API: fixed windows counted in ``RATELIMIT_STORAGE_URI``.

    It does what flask-limiter's shared limit on the blueprint did, without re-resolving the limit's
    decorators, scopes and exemptions on every request: :meth:`check` (before the blueprint's views) counts
    the request against each limit of the key's ``rate_limit``, shortest window first, and refuses the first
    one exceeded with a 429; :meth:`headers` (after them) adds ``X-RateLimit-Limit``, ``-Remaining``,
    ``-Reset`` for that limit, or the shortest window's, and on a 429 ``Retry-After`` (seconds until the window
    ends).
    The counters' keys are flask-limiter's (prefix, caller, scope), so counts in a shared store carry over.

    Args:
        limit_for: the calling key's limit, as ``"600/minute"`` or several separated by ``;``.
        key_for: what the counters count by (the key's public prefix).
        exempt: whether the current request is not counted (the public documents).
    """

    def __init__(self, app: Flask, limit_for: Callable[[], str], key_for: Callable[[], str],
                 exempt: Callable[[], bool]) -> None:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                      **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
        self.window = FixedWindowRateLimiter(storage)
        self.enabled = bool(app.config["API_RATE_LIMIT_ENABLED"])
        self.limit_for, self.key_for, self.exempt = limit_for, key_for, exempt

    def check(self) -> None:
        """Count this request; raise a 429 :class:`~api.problems.ApiProblem` when a limit is exceeded."""
        if not self.enabled or self.exempt():
            return
        items, caller = _parsed(self.limit_for()), self.key_for()
        g.api_rate_limit = (items[0], caller)
        for item in items:
            if not self.window.hit(item, KEY_PREFIX, caller, SCOPE):
                g.api_rate_limit = (item, caller)
                raise ApiProblem(429, "Too Many Requests", str(item), slug="too-many-requests")

    def headers(self, response: Response) -> Response:
        """Add the rate-limit headers of the limit :meth:`check` counted this request against."""
        counted: tuple[RateLimitItem, str] | None = g.get("api_rate_limit")
        if counted is not None:
            item, caller = counted
            reset, remaining = self.window.get_window_stats(item, KEY_PREFIX, caller, SCOPE)
            reset_at = int(reset + 1)
            response.headers["X-RateLimit-Limit"] = str(item.amount)
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(reset_at)
            if response.status_code == 429:
                response.headers["Retry-After"] = str(max(int(reset_at - time.time()), 0))
        return response
