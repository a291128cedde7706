"""Benchmark of the channel API: quotes and automatically decided applications under gunicorn on PostgreSQL.

    .venv/bin/python bench/api.py [--rate 200] [--seconds 30] [--workers 2] [--threads 8] [--entry-points]

A fresh PostgreSQL database (dropped at the end) gets the tables, the CONSUMER_INSTALLMENT sample
published as shipped, and a channel key. gunicorn serves ``loanfactory.app:create_app()`` with
``--workers`` processes (gthread, ``--threads`` each) on 127.0.0.1, with the built-in plugins only: third
parties' entry points are not loaded (``./dev`` installs the docs' example plugin in the development
environment, whose ``lifecycle_event`` listener would otherwise hear every state change; ``--entry-points``
loads them). A second process sends requests open-loop at ``--rate`` per second for ``--seconds``: half
quotes, half applications (a new applicant, ID number and Idempotency-Key each, decided by eligibility,
the sandbox bureau, the scorecard and the approval chain). It prints p50/p95/p99 latency per kind, the
throughput achieved, and the CPU the server spent per request (gunicorn's processes, and the PostgreSQL
backends serving the benchmark's database, read from ``/proc``): on a shared machine latency moves with
the other load, CPU per request much less. Goal: p99 <= 50 ms for both at 200 requests/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("LOANFACTORY_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"
APPLY = "/api/v1/products/CONSUMER_INSTALLMENT/applications"


def prepare(url: str) -> str:
    """Tables, the product published and a key with a limit far above the benchmark rate."""
    from core.origination.channels import issue_api_key
    from core.products.validate import read_document
    from core.products.versions import create_draft, publish, submit
    from loanfactory.app import create_app
    from loanfactory.database import get_db

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = get_db(app).session()
        version = create_draft(session, read_document(ROOT / "product_configs" / "consumer_installment.json"),
                               actor="bench-maker")
        submit(session, version, actor="bench-maker")
        publish(session, version, actor="bench-checker")
        _client, key = issue_api_key(session, "bench", ["*"], rate_limit="1000000/minute")
        session.commit()
    get_db(app).engine.dispose()
    return key


def id_number(sequence: int) -> str:
    """A valid resident ID number, different for each ``sequence``."""
    from stdnum.cn import ric

    first = f"110101{1980 + sequence % 20}0{1 + sequence % 9}1{sequence % 10}{sequence % 1000:03d}"[:17]
    return first + ric.calc_check_digit(first + "0")


def application(sequence: int) -> dict[str, Any]:
    return {"amount": "12000.00", "term": 6, "method": "equal_installment", "purpose": "used_car",
            "applicant": {"name": "压测", "id_number": id_number(sequence), "phone": "13812345678",
                          "monthly_income": "20000.00", "monthly_debt_payments": "1000.00", "employment_years": 5,
                          "housing": "own", "occupation": "skilled", "dependants": 1,
                          "bank_account": {"bank_code": "ICBC", "account_number": "6222020200112233445",
                                           "holder_name": "压测"}},
            "consents": {"credit_bureau_query": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "b-1"},
                         "personal_information": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "b-2"}}}


def drive(port: int, key: str, rate: float, seconds: float, results: Queue[Any]) -> None:
    """The load generator (a process of its own): open-loop arrivals at ``rate``, 64 sender threads."""
    jobs: queue.Queue[tuple[str, str, bytes, dict[str, str]] | None] = queue.Queue()
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (job := jobs.get()) is not None:
            kind, path, body, headers = job
            started = time.perf_counter()
            status = 0
            for _attempt in range(2):  # a keep-alive connection the server closed while idle is opened again
                try:
                    connection.request("POST", path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    break
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                samples.append((kind, (time.perf_counter() - started) * 1000, status))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(64)]
    for thread in threads:
        thread.start()
    total = int(rate * seconds)
    begin = time.perf_counter()
    for n in range(total):
        due = begin + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        if n % 2 == 0:
            body = json.dumps({"amount": str(1000 + 100 * (n % 400)), "term": 12, "method": "equal_installment"})
            jobs.put(("quote", QUOTE, body.encode(), headers))
        else:
            headers["Idempotency-Key"] = str(uuid.uuid4())
            jobs.put(("application", APPLY, json.dumps(application(n)).encode(), headers))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    results.put((samples, time.perf_counter() - begin))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of the processes ``pids`` so far (those that have gone are left out)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(server: subprocess.Popen[bytes], admin: Any, database: str) -> tuple[list[int], list[int]]:
    """gunicorn's processes (the arbiter and its workers) and the PostgreSQL backends of ``database``."""
    from sqlalchemy import text

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    with admin.connect() as conn:
        backends = list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                     {"name": database}))
    return [server.pid, *map(int, children)], backends


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (half quotes)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--entry-points", action="store_true", help="load third-party plugins too")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    name = f"lf_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        key = prepare(url)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "LOANFACTORY_AUTO_CREATE_TABLES": "false",
               "LOANFACTORY_PLUGINS_ENTRYPOINTS": "true" if args.entry_points else "false"}
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers), "--worker-class", "gthread",
             "--threads", str(args.threads), "--keep-alive", "30", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "loanfactory.app:create_app()"], cwd=ROOT, env=env, start_new_session=True)
        wait_until_up(port)
        warm: Queue[Any] = Queue()
        warmup = Process(target=drive, args=(port, key, 20.0, 3.0, warm))
        warmup.start()
        warm.get()
        warmup.join()
        workers, backends = server_pids(server, admin, name)
        before = cpu_seconds(workers), cpu_seconds(backends)
        results: Queue[Any] = Queue()
        driver = Process(target=drive, args=(port, key, args.rate, args.seconds, results))
        driver.start()
        samples, elapsed = results.get()
        driver.join()
        workers, backends = server_pids(server, admin, name)
        spent = cpu_seconds(workers) - before[0], cpu_seconds(backends) - before[1]
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"channel API under gunicorn ({args.workers} workers x {args.threads} threads, PostgreSQL), "
          f"offered {args.rate:.0f} req/s for {args.seconds:.0f} s from a second process")
    print(f"{'kind':<12}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for kind in ("quote", "application"):
        rows = [(ms, status) for k, ms, status in samples if k == kind]
        latencies = [ms for ms, _ in rows]
        errors = sum(1 for _, status in rows if status not in (200, 201))
        print(f"{kind:<12}{len(rows):>9}{errors:>8}{percentile(latencies, 0.50):>9.1f}"
              f"{percentile(latencies, 0.95):>9.1f}{percentile(latencies, 0.99):>9.1f}"
              f"{statistics.fmean(latencies):>9.1f}")
    print(f"throughput: {len(samples) / elapsed:.1f} req/s completed ({len(samples)} in {elapsed:.1f} s)")
    print(f"server CPU per request: {1000 * spent[0] / len(samples):.2f} ms gunicorn, "
          f"{1000 * spent[1] / len(samples):.2f} ms PostgreSQL (both kinds together)")
    statuses: dict[tuple[str, int], int] = {}
    for kind, _ms, status in samples:
        statuses[(kind, status)] = statuses.get((kind, status), 0) + 1
    print("statuses: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(statuses.items())))


if __name__ == "__main__":
    main()
