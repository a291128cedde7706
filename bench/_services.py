"""The world ``bench/faults.py`` breaks: a PostgreSQL cluster and a Redis of its own, the book it seeds, gunicorn
and Celery workers in production settings, a webhook receiver, each started and stopped by the suite alone.

The fault suite stops, restarts and kills what it runs, so it never touches the shared servers: the cluster
is made by ``initdb`` in a temporary folder (as the ``postgres`` user when the suite runs as root, which
``initdb`` refuses) and listens on a free port of 127.0.0.1; Redis runs on another free port without
persistence. Both are removed at the end. A worker that exits on its own is started again by
:func:`supervise`, as systemd's ``Restart=always`` would. Not a benchmark itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _channel import APPLY, application
from _load import free_port, wait_until_up

PG_BIN = Path(os.environ.get("LOANFACTORY_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSED_THROUGH, EOD_DATE, BUSINESS_DATE = date(2026, 6, 28), date(2026, 6, 29), date(2026, 6, 30)
DISBURSED_AT = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
EVENTS = ["application.approved", "application.rejected", "loan.*"]
SUITE = "faults-suite"  # the application_name of the suite's own connections, never terminated
#: a killed worker's unacknowledged messages come back after 15 s (600 in docs/operations.md), found by a sweep
#: every 10 s (kombu's default sweeps every 100 s)
TRANSPORT = {"visibility_timeout": 15, "unacked_restore_throttle": 1}


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, trust authentication, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lf-faults-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "sockets", self.root / "server.log"
        self.sockets.mkdir()
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:  # initdb refuses root: the folder is the postgres user's
            for path in (self.root, self.sockets):
                shutil.chown(path, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")

    def _run(self, program: Path, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, str(program), *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                   "-c shared_buffers=128MB")
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "120",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` rolls back open transactions and shuts down cleanly; ``immediate`` is a crash (WAL replay at
        the next start)."""
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a free port of 127.0.0.1, nothing saved: a stop loses what it held."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


def start_group(command: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """A process in a session (and so a process group) of its own, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(list(command), cwd=cwd, env=env, start_new_session=True, stdout=out,
                                stderr=subprocess.STDOUT)


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal ``process``'s whole group (a Celery worker and its pool) and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    process.wait(timeout=60)


def children(pid: int) -> list[int]:
    """The children of ``pid`` (gunicorn's workers, of its arbiter)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Receiver:
    """A channel's webhook endpoint on 127.0.0.1: notes the first arrival of each event id and every
    delivery; ``delay`` seconds before answering 204 (a slow receiver keeps deliveries in flight)."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.times: list[float] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = int(json.loads(body)["id"])
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.first.setdefault(event_id, time.time())
                    outer.times.append(time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class World:
    """Everything the phases share."""

    args: argparse.Namespace
    postgres: PrivatePostgres
    redis: PrivateRedis
    url: str
    key: str
    client_id: int
    loans: list[int]
    receiver: Receiver
    app: Any
    engine: Any
    env: dict[str, str]
    logs: Path
    gunicorn: subprocess.Popen[bytes] | None = None
    port: int = 0
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_number: int = 0
    #: workers the suite killed on purpose; any other that exits, its supervisor (:func:`supervise`) restarts
    killed: set[int] = field(default_factory=set)
    restarts: list[tuple[float, int | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: bool = False


def suite_engine(url: str) -> Any:
    """The suite's own connections: named, so that no fault terminates them, and pinged before use."""
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True,
                         connect_args={"application_name": SUITE})


def seed_channel_loans(url: str, key: str, count: int) -> list[int]:
    """``count`` loans the channel took through the API (in this process, eager Celery, the sandboxes):
    applied for, accepted, signed and disbursed, settled by the sandbox bank on 2026-06-01 and booked by its
    signed callback. Returns their ids."""
    from loanfactory.app import create_app
    from loanfactory.database import get_db
    from loanfactory.plugins_host import get_plugins
    from plugins.sandbox_bank.bank import open_bank

    app = create_app({"DATABASE_URL": url, "DEMO": True,
                      "PLUGINS_EXTRA": ["plugins.sandbox_bank", "plugins.local_esign"],
                      "PLUGINS_TIMEOUT": 60, "API_BUSINESS_DATE": DISBURSED_AT.date().isoformat(),
                      "RATELIMIT_STORAGE_URI": "local://"})
    get_plugins(app).clock = lambda: DISBURSED_AT
    client = app.test_client()
    headers = {"X-API-Key": key}
    sequence, paying = 900_000, 0
    while paying < count:
        sequence += 1
        applicant = application(sequence)
        applied = client.post(APPLY, json=applicant, headers={**headers, "Idempotency-Key": f"seed-{sequence}"})
        if applied.get_json().get("state") != "approved":
            continue
        path = f"/api/v1/applications/{applied.get_json()['id']}"
        client.post(path + "/acceptance", headers={**headers, "Idempotency-Key": f"accept-{sequence}"})
        contract = client.get(path + "/contract", headers=headers).get_json()
        client.post(path + "/contract/signature", json={"signer_name": applicant["applicant"]["name"],
                                                        "sha256": contract["sha256"]},
                    headers={**headers, "Idempotency-Key": f"sign-{sequence}"})
        payout = client.post(path + "/disbursement", headers={**headers, "Idempotency-Key": f"pay-{sequence}"})
        assert payout.status_code == 202, payout.get_json()
        paying += 1
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, DISBURSED_AT, session) as bank:
            bank.settle_due()
            callbacks = [(dict(cb.headers), cb.body.encode()) for cb in bank.undelivered_callbacks()]
        session.commit()
    for callback_headers, body in callbacks:
        answer = client.post("/api/v1/callbacks/payments/sandbox_bank", data=body, headers=callback_headers)
        assert answer.status_code == 200, answer.get_json()
    loans = [loan["id"] for loan in client.get("/api/v1/loans?per_page=100", headers=headers).get_json()["items"]]
    get_db(app).engine.dispose()
    return sorted(loans)[:count]


def close_through(url: str, on: date, size: int) -> None:
    """End-of-day through ``on`` in this process (the book's first night)."""
    from loanfactory.app import create_app
    from loanfactory.database import get_db
    from loanfactory.tasks.eod import run_locally

    app = create_app({"DATABASE_URL": url, "AUTO_CREATE_TABLES": False, "DEMO": True})
    run_locally(app, on, workers=1, size=size)
    get_db(app).engine.dispose()


def service_env(url: str, redis: PrivateRedis, size: int) -> dict[str, str]:
    """Production settings for gunicorn and the Celery workers (docs/operations.md)."""
    return {**os.environ, "DATABASE_URL": url, "LOANFACTORY_AUTO_CREATE_TABLES": "false",
            # the demo's development secrets (no secret to invent), and the receiver on this machine allowed
            "LOANFACTORY_DEMO": "true", "LOANFACTORY_API_WEBHOOKS_ALLOW_LOOPBACK": "true",
            "LOANFACTORY_PLUGINS_ENTRYPOINTS": "false", "LOANFACTORY_API_BUSINESS_DATE": BUSINESS_DATE.isoformat(),
            "LOANFACTORY_RATELIMIT_STORAGE_URI": redis.url(2), "LOANFACTORY_EOD_PARTITION_SIZE": str(size),
            "LOANFACTORY_CELERY__broker_url": redis.url(0), "LOANFACTORY_CELERY__result_backend": redis.url(1),
            "LOANFACTORY_CELERY__task_always_eager": "false",
            # a killed worker's unacknowledged messages come back after 15 s (600 in docs/operations.md), found by
            # a sweep every 10 s (kombu's default sweeps every 100 s)
            "LOANFACTORY_CELERY__broker_transport_options": json.dumps(TRANSPORT),
            "PYTHONPATH": str(ROOT)}


def celery_app(world: World) -> Any:
    """The suite's own app on the services (pings, the end-of-day's chords, beat's dispatch)."""
    from loanfactory.app import create_app

    env = world.env
    return create_app({"DATABASE_URL": world.url + f"?application_name={SUITE}", "AUTO_CREATE_TABLES": False,
                       "DEMO": True,
                       "EOD_PARTITION_SIZE": int(env["LOANFACTORY_EOD_PARTITION_SIZE"]),
                       "CELERY": {"broker_url": env["LOANFACTORY_CELERY__broker_url"],
                                  "result_backend": env["LOANFACTORY_CELERY__result_backend"],
                                  "task_always_eager": False,
                                  "broker_transport_options": TRANSPORT}})


def start_worker(world: World) -> str:
    """A new Celery worker (two prefork children) on the suite's Redis; returns its name."""
    world.worker_number += 1
    name = f"faults-{world.worker_number}@localhost"
    world.workers.append(start_group(
        [sys.executable, "-m", "celery", "-A", "loanfactory.worker", "worker", "-n", name, "-c", "2", "--pool",
         "prefork", "--prefetch-multiplier", "1", "--loglevel", "WARNING", "--without-mingle", "--without-gossip",
         "--without-heartbeat"], world.env, ROOT, world.logs / "celery.log"))
    return name


def kill_worker(world: World) -> None:
    """SIGKILL the current worker's process group and start another (the deployment's supervisor would)."""
    with world.lock:
        victim = world.workers[-1]
        world.killed.add(victim.pid)
        kill_group(victim)
        start_worker(world)


def supervise(world: World) -> None:
    """What systemd's ``Restart=always`` does for a worker that exits on its own: start another."""
    while not world.stopping:
        with world.lock:
            current = world.workers[-1]
            if current.poll() is not None and current.pid not in world.killed:
                world.restarts.append((time.time(), current.returncode))
                start_worker(world)
        time.sleep(0.5)


def wait_for_worker(world: World, name: str) -> None:
    for _ in range(240):
        if world.app.extensions["celery"].control.ping(destination=[name], timeout=1):
            return
    raise SystemExit(f"Celery worker {name} did not answer")


def start_gunicorn(world: World) -> None:
    world.port = free_port()
    world.gunicorn = start_group(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--worker-class", "sync", "--bind",
         f"127.0.0.1:{world.port}", "--log-level", "warning", "loanfactory.app:create_app()"],
        world.env, ROOT, world.logs / "gunicorn.log")
    wait_until_up(world.port)


def subscribe(world: World) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", world.port, timeout=30)
    connection.request("POST", "/api/v1/webhooks", json.dumps({"url": world.receiver.url, "events": EVENTS}),
                       {"X-API-Key": world.key, "Content-Type": "application/json", "Idempotency-Key": "faults-hook"})
    answer = connection.getresponse()
    body = json.loads(answer.read())
    assert answer.status == 201, body
    return int(body["id"])
