"""The benchmarks' HTTP load generator and server helpers, shared by ``bench/api.py`` and ``bench/faults.py``.

:func:`drive` sends prepared requests open-loop at a fixed rate from one thread: a selector over at most
:data:`CONNECTIONS` keep-alive connections, every request built before the clock starts, a request's latency
counted from the moment it was due (a wait for a free connection counts). A connection the server closes with
a request in flight (a worker that died) sends that request again on a new one, as a client pool does. With a
``retry`` policy it is also a channel that retries: an answer the policy names (a 503 with ``Retry-After``,
say) is sent again, the same bytes and so the same ``Idempotency-Key``, after the delay the policy gives,
until ``give_up`` seconds after the request was due. Every attempt is kept, so a caller can tell what was
answered when. Not a benchmark itself (``./dev bench`` runs only the scripts without a leading underscore).
"""

from __future__ import annotations

import collections
import heapq
import http.client
import selectors
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the load generator's keep-alive connections at the most
CONNECTIONS = 64
#: seconds before a request whose connection was lost is sent again
LOST_CONNECTION_PAUSE = 0.2

#: what a retry policy is given (the status and the response's headers, lower-cased) and answers: the seconds
#: to wait before sending the same request again, or ``None`` to keep the answer
Retry = Callable[[int, dict[str, str]], float | None]


@dataclass
class Attempt:
    """One try of a request: when it was answered (seconds since the clock started), the status (``None``:
    the connection was lost first) and the answer's headers."""

    at: float
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    """A request (``n``: its place among those prepared) and how it ended: its ``kind``, when it was due
    (seconds since the clock started), its latency to the final answer in ms, the final status (``None``:
    given up unanswered) and every attempt."""

    n: int
    kind: str
    due: float
    ms: float
    status: int | None
    attempts: list[Attempt]


class Connection:
    """A keep-alive connection of the load generator and the one request it has in flight."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.request: int | None = None
        #: the last response said ``Connection: close`` (sync workers, or ``--keep-alive 0``): not reused
        self.closing = False

    def response(self) -> tuple[int, dict[str, str]] | None:
        """The status and headers of the complete response in the buffer (removed from it), or ``None`` while
        incomplete."""
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < head_end + 4 + length:
            return None
        self.buffer = self.buffer[head_end + 4 + length:]
        self.closing = headers.get("connection", "").lower() == "close"
        return int(lines[0].split(" ", 2)[1]), headers


def drive(port: int, prepared: Sequence[tuple[str, bytes]], rate: float, *, retry: Retry | None = None,
          give_up: float = 60.0, started: Callable[[float], None] | None = None) -> tuple[list[Sample], float, float]:
    """Send ``prepared`` (each ``(kind, the request's bytes)``) open-loop at ``rate`` a second; return the
    samples in the order they ended, the seconds it took and this process's CPU seconds.

    Args:
        retry: the policy that says which answers to send again and after how long (none by default: the
            first answer is final).
        give_up: with a ``retry`` policy, the seconds after a request was due after which it is not sent
            again: its last answer is final, or it stays unanswered (status ``None``).
        started: called with the wall-clock time (``time.time()``) at which the clock started.
    """
    selector = selectors.DefaultSelector()
    idle: list[Connection] = []
    waiting: collections.deque[int] = collections.deque()
    later: list[tuple[float, int]] = []  # (when, request): retries waiting for their time
    attempts: dict[int, list[Attempt]] = collections.defaultdict(list)
    samples: list[Sample] = []
    connections = 0
    cpu, begin = time.process_time(), time.perf_counter()
    if started is not None:
        started(time.time())
    due = [begin + n / rate for n in range(len(prepared))]
    scheduled = 0

    def finish(n: int, status: int | None, now: float) -> None:
        samples.append(Sample(n, prepared[n][0], due[n] - begin, (now - due[n]) * 1000, status, attempts.pop(n, [])))

    def answered(n: int, status: int | None, headers: dict[str, str], now: float) -> None:
        attempts[n].append(Attempt(now - begin, status, headers))
        if status is None and retry is None:
            waiting.appendleft(n)  # a worker died with the request: send it again on a new connection
            return
        pause = LOST_CONNECTION_PAUSE if status is None else retry(status, headers) if retry else None
        if pause is not None and now - due[n] < give_up:
            heapq.heappush(later, (now + pause, n))
        else:
            finish(n, status, now)

    def drop(connection: Connection) -> None:
        nonlocal connections
        selector.unregister(connection.sock)
        connection.sock.close()
        connections -= 1
        if connection in idle:
            idle.remove(connection)

    while len(samples) < len(prepared):
        now = time.perf_counter()
        while scheduled < len(prepared) and due[scheduled] <= now:
            waiting.append(scheduled)
            scheduled += 1
        while later and later[0][0] <= now:
            waiting.append(heapq.heappop(later)[1])
        while waiting and (idle or connections < CONNECTIONS):
            n = waiting.popleft()
            connection = idle.pop() if idle else None
            try:
                if connection is None:
                    connection = Connection(port)
                    connections += 1
                    selector.register(connection.sock, selectors.EVENT_READ, connection)
                connection.request = n
                connection.sock.sendall(prepared[n][1])
            except OSError:  # refused or reset: the server is not taking connections at this moment
                if connection is not None:
                    connection.request = None
                    drop(connection)
                answered(n, None, {}, time.perf_counter())
        upcoming = [due[scheduled]] if scheduled < len(prepared) else []
        wait = min([*upcoming, *(when for when, _ in later[:1])], default=time.perf_counter() + 1.0)
        for ready, _events in selector.select(max(wait - time.perf_counter(), 0)):
            connection = ready.data
            try:
                data = connection.sock.recv(65536)
            except OSError:
                data = b""
            if not data:  # the server closed the connection: a request in flight is sent again
                drop(connection)
                if connection.request is not None:
                    answered(connection.request, None, {}, time.perf_counter())
                continue
            connection.buffer += data
            response = connection.response()
            if response is not None and connection.request is not None:
                n, connection.request = connection.request, None
                if connection.closing:
                    drop(connection)
                else:
                    idle.append(connection)
                status, headers = response
                answered(n, status, headers, time.perf_counter())
    elapsed = time.perf_counter() - begin
    for ready in list(selector.get_map().values()):
        ready.fileobj.close()  # type: ignore[union-attr]
    return samples, elapsed, time.process_time() - cpu


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, timeout: float = 120, path: str = "/api/v1/openapi.json") -> None:
    """Wait until the server on ``port`` answers ``path`` with a 200."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server on port {port} did not come up")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def request_bytes(path: str, key: str, body: Any, idempotency_key: str | None = None) -> bytes:
    """A POST of JSON ``body`` (bytes as they are) to ``path`` with the channel ``key``, on the wire."""
    import json

    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    extra = f"Idempotency-Key: {idempotency_key}\r\n" if idempotency_key else ""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload
