"""The rate limiter's in-process storage: fixed-window counters that expire when read, no helper thread.

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

from limits.storage import Storage

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
