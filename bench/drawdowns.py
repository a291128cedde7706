"""Benchmark of credit-line drawdowns through the channel API under gunicorn on PostgreSQL.

    .venv/bin/python bench/drawdowns.py [--rate 200] [--seconds 20] [--lines 300] [--workers 2]

Measured like ``bench/api.py`` (its server, load generator and CPU accounting): a fresh PostgreSQL database
(dropped at the end) gets the tables, the REVOLVING_CREDIT_LINE sample published, a channel key and ``--lines``
granted lines of 100,000 (one customer each, decided by the pipeline with the sandbox bureau and the scorecard).
gunicorn serves the app with the built-in plugins; a second process sends requests open-loop at ``--rate`` a
second for ``--seconds``: half drawdowns (500.00 over 3 months, each under its own Idempotency-Key, spread over
the lines in turn: each takes the customer's and the line's locks, checks every level of limits, records the
drawdown's application and sends the payout to the sandbox bank) and half drawdown quotes on the same lines
(the line read and a schedule priced, nothing written), the baseline of the same run. It prints p50/p95/p99
latency of each kind, the ratio of the drawdowns' p99 to the quotes', the throughput and the CPU a request
costs the server and PostgreSQL. Goal: p99 <= 50 ms for drawdowns at 200 requests/s. Each run appends its
figures to ``bench/results/drawdowns.csv``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import uuid
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

import _load as load
from _load import free_port, percentile, request_bytes, wait_until_up
from _measure import PG_ADMIN, cpu_seconds, machine_cpu, scratch_database, server_pids
from _record import record

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CODE = "REVOLVING_CREDIT_LINE"


def prepare(url: str, lines: int) -> tuple[str, list[int]]:
    """Tables, the line product published (a hundred live loans per customer), a key, ``lines`` lines."""
    from datetime import UTC, datetime

    from _channel import application

    from core.channels.keys import issue_api_key
    from core.credit_lines.application import accept_line, apply_for_line
    from core.origination.published import published_offer
    from core.products.validate import read_document
    from core.products.versions import create_draft, publish, submit
    from loanfactory.app import create_app
    from loanfactory.database import get_db
    from loanfactory.plugins_host import get_plugins

    app = create_app({"DATABASE_URL": url, "DEMO": True})
    document = read_document(ROOT / "product_configs" / "revolving_credit_line.json")
    document["credit_limits"]["max_concurrent_loans"] = 100
    granted = []
    with app.app_context():
        session = get_db(app).session()
        version = create_draft(session, document, actor="bench-maker")
        submit(session, version, actor="bench-maker")
        publish(session, version, actor="bench-checker")
        _client, key = issue_api_key(session, "bench", ["*"], rate_limit="1000000/minute")
        offer = published_offer(session, CODE)
        now = datetime.now(UTC)
        for n in range(lines):
            body = application(n) | {"amount": "20000.00"}
            del body["term"], body["method"]
            applied = apply_for_line(session, get_plugins(app), offer, body, channel="bench", actor="bench", now=now)
            if applied.state == "approved":
                granted.append(accept_line(session, applied, offer, actor="bench", today=now.date(), now=now).id)
        session.commit()
    get_db(app).engine.dispose()
    return key, granted


def requests_to_send(key: str, lines: list[int], total: int) -> list[tuple[str, bytes]]:
    """``total`` requests, alternately a drawdown quote and a drawdown, going round the lines."""
    body = {"amount": "500.00", "term": 3, "method": "equal_installment"}
    prepared = []
    for n in range(total):
        line = lines[(n // 2) % len(lines)]
        if n % 2 == 0:
            prepared.append(("quote", request_bytes(f"/api/v1/credit-lines/{line}/drawdown-quotes", key, body)))
        else:
            prepared.append(("drawdown", request_bytes(f"/api/v1/credit-lines/{line}/drawdowns", key, body,
                                                       str(uuid.uuid4()))))
    return prepared


def drive(port: int, key: str, lines: list[int], rate: float, seconds: float, results: Queue[Any]) -> None:
    results.put(load.drive(port, requests_to_send(key, lines, int(rate * seconds)), rate))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (half quotes)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    loadavg = os.getloadavg()
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with scratch_database() as url:
        key, lines = prepare(url, args.lines)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "LOANFACTORY_AUTO_CREATE_TABLES": "false",
               "LOANFACTORY_DEMO": "true", "LOANFACTORY_PLUGINS_ENTRYPOINTS": "false"}
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "loanfactory.app:create_app()"], cwd=ROOT, env=env, start_new_session=True)
        try:
            wait_until_up(port)
            warm: Queue[Any] = Queue()
            warmup = Process(target=drive, args=(port, key, lines[-10:], 20.0, 2.0, warm))
            warmup.start()
            warm.get()
            warmup.join()
            workers, backends = server_pids(server, admin, url.rsplit("/", 1)[1])
            before = cpu_seconds(workers), cpu_seconds(backends)
            machine_before = machine_cpu()
            results: Queue[Any] = Queue()
            driver = Process(target=drive, args=(port, key, lines[:-10], args.rate, args.seconds, results))
            driver.start()
            samples, elapsed, _generator_cpu = results.get()
            driver.join()
            machine = [after - was for after, was in zip(machine_cpu(), machine_before, strict=True)]
            workers, backends = server_pids(server, admin, url.rsplit("/", 1)[1])
            spent = cpu_seconds(workers) - before[0], cpu_seconds(backends) - before[1]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    admin.dispose()

    print(f"credit-line drawdowns under gunicorn ({args.workers} sync workers, PostgreSQL), {len(lines)} lines, "
          f"offered {args.rate:.0f} req/s for {args.seconds:.0f} s; load average before: "
          f"{loadavg[0]:.2f} {loadavg[1]:.2f} {loadavg[2]:.2f}")
    print(f"{'kind':<10}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    row: dict[str, object] = {"rate": args.rate, "seconds": args.seconds, "lines": len(lines),
                              "workers": args.workers, "load_before": round(loadavg[0], 2)}
    p99: dict[str, float] = {}
    for kind, ok in (("quote", 200), ("drawdown", 202)):
        rows = [(sample.ms, sample.status) for sample in samples if sample.kind == kind]
        latencies = [ms for ms, _ in rows]
        figures = {"requests": len(rows), "errors": sum(1 for _, status in rows if status != ok),
                   "p50_ms": percentile(latencies, 0.50), "p95_ms": percentile(latencies, 0.95),
                   "p99_ms": percentile(latencies, 0.99), "mean_ms": statistics.fmean(latencies)}
        print(f"{kind:<10}{len(rows):>9}{figures['errors']:>8}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}"
              f"{figures['p99_ms']:>9.1f}{figures['mean_ms']:>9.1f}")
        row |= {f"{kind}_{name}": round(value, 1) for name, value in figures.items()}
        p99[kind] = figures["p99_ms"]
    ratio = p99["drawdown"] / p99["quote"] if p99["quote"] else float("nan")
    print(f"drawdown p99 / quote p99 (same run): {ratio:.2f}")
    print(f"throughput: {len(samples) / elapsed:.1f} req/s completed ({len(samples)} in {elapsed:.1f} s)")
    print(f"server CPU per request: {1000 * spent[0] / len(samples):.2f} ms gunicorn, "
          f"{1000 * spent[1] / len(samples):.2f} ms PostgreSQL; the machine {machine[0]:.1f} s busy, "
          f"{machine[1]:.1f} s stolen")
    statuses: dict[tuple[str, int], int] = {}
    for sample in samples:
        statuses[(sample.kind, sample.status)] = statuses.get((sample.kind, sample.status), 0) + 1
    print("statuses: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(statuses.items())))
    row |= {"p99_ratio": round(ratio, 2), "completed_per_s": round(len(samples) / elapsed, 1),
            "gunicorn_cpu_ms": round(1000 * spent[0] / len(samples), 2),
            "postgres_cpu_ms": round(1000 * spent[1] / len(samples), 2),
            "goal_p99_50ms": p99["drawdown"] <= 50 if args.rate >= 200 else ""}
    print(f"recorded in {record('drawdowns', row)}")


if __name__ == "__main__":
    main()
