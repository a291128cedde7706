"""The CPU a quote and an application cost in the app itself: the Flask test client on PostgreSQL, no HTTP server.

    .venv/bin/python bench/api_cpu.py [--requests 300] [--rounds 1] [--root DIR] [--profile FILE]
                                      [--profile-kind quote] [--profile-clock cpu] [--statements]

A fresh PostgreSQL database (dropped at the end) gets the tables, the CONSUMER_INSTALLMENT sample published
and a channel key, as in ``bench/api.py`` (built-in plugins only, the rate limiter on). After a warm-up it
sends ``--requests`` quotes, then as many applications (a new applicant and Idempotency-Key each, the
bodies of ``bench/api.py``) through the test client, and prints the process CPU time per request of each
kind and the SQL statements per request. CPU time moves far less with other load on the machine than
latency does, but it still moves: ``--rounds N`` measures N rounds of ``--requests`` of each kind and
prints the least CPU per request of a round (other work only ever adds to it) and the median. ``--root``
runs another checkout's code (a ``git worktree`` of an older commit) with this script, so the code before
and after a change are measured the same way. ``--profile`` writes a cProfile of the first round's
applications (or ``--profile-kind quote``) to FILE (wall-clock: waits for the database show as psycopg's
``wait``; ``--profile-clock cpu`` times by the process's CPU instead, so the waits drop out).
``--statements`` prints the SQL of one request of each kind. The garbage collector's CPU per request in the
measured requests is printed per generation. Each run appends its figures to ``bench/results/api_cpu.csv``
(the commit is the measured checkout's).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _record import record

QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"
APPLY = "/api/v1/products/CONSUMER_INSTALLMENT/applications"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="quotes, and as many applications, a round")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of quotes then applications: the least CPU of a round and the median are printed")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose code is measured")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one kind of request here")
    parser.add_argument("--profile-kind", choices=("quote", "application"), default="application")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall",
                        help="time the profile by the wall clock or by the process's CPU time")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of one request of each kind after the warm-up")
    args = parser.parse_args()
    root = args.root.resolve()
    os.chdir(root)
    os.environ["LOANFACTORY_PLUGINS_ENTRYPOINTS"] = "false"
    # bench/api.py, for the same request bodies and set-up (its name would shadow the ``api`` package)
    spec = importlib.util.spec_from_file_location("bench_api", Path(__file__).resolve().parent / "api.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sys.path.insert(0, str(root))  # ahead of the checkout bench/api.py put first
    from sqlalchemy import event

    from loanfactory.app import create_app
    from loanfactory.database import get_db

    with bench.scratch_database() as url:
        key = bench.prepare(url)
        app = create_app({"DATABASE_URL": url, "AUTO_CREATE_TABLES": False, "DEMO": True})
        statements = [0]

        shown: list[str] | None = None

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements[0] += 1
            if shown is not None:
                shown.append(" ".join(statement.split())[:160])

        event.listen(get_db(app).engine, "before_cursor_execute", count)
        client = app.test_client()

        def quote(n: int) -> None:
            body = {"amount": str(1000 + 100 * (n % 400)), "term": 12, "method": "equal_installment"}
            response = client.post(QUOTE, json=body, headers={"X-API-Key": key})
            assert response.status_code == 200, response.get_data(as_text=True)

        def apply(n: int) -> None:
            response = client.post(APPLY, data=json.dumps(bench.application(n)),
                                   headers={"X-API-Key": key, "Content-Type": "application/json",
                                            "Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 201, response.get_data(as_text=True)

        for n in range(30):  # warm-up: caches, prepared statements, the plugin workers
            quote(n)
            apply(100_000 + n)
        if args.statements:
            for kind, send in (("quote", quote), ("application", apply)):
                shown = []
                send(99_999)
                print(f"{kind}: {len(shown)} statements", *shown, sep="\n  ")
            shown = None
        collected = [0.0, 0.0, 0.0]  # the garbage collector's CPU per generation in the measured requests
        began = [0.0]

        def collecting(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                began[0] = time.process_time()
            else:
                collected[info["generation"]] += time.process_time() - began[0]

        gc.callbacks.append(collecting)
        figures: dict[str, list[float]] = {"quote": [], "application": []}
        sent: dict[str, int] = {"quote": 0, "application": 0}
        for round_ in range(args.rounds):
            for kind, send in (("quote", quote), ("application", apply)):
                profiler = None
                if args.profile and kind == args.profile_kind and round_ == 0:
                    profiler = (cProfile.Profile(time.process_time) if args.profile_clock == "cpu"
                                else cProfile.Profile())
                before = statements[0]
                started = time.process_time()
                if profiler:
                    profiler.enable()
                for n in range(round_ * args.requests, (round_ + 1) * args.requests):
                    send(n)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                figures[kind].append(1000 * (time.process_time() - started) / args.requests)
                sent[kind] += statements[0] - before
        gc.callbacks.remove(collecting)
        get_db(app).engine.dispose()
    total = args.rounds * args.requests
    print(f"{root}: " + ", ".join(
        f"{kind} {min(ms):.2f} ms CPU (median {statistics.median(ms):.2f} of {len(ms)} rounds), "
        f"{sent[kind] / total:.1f} statements" for kind, ms in figures.items()))
    per_request = [1000 * spent / (2 * total) for spent in collected]
    print("garbage collector per request (both kinds): " + ", ".join(
        f"gen {n} {ms:.3f} ms" for n, ms in enumerate(per_request)) + f" (thresholds {gc.get_threshold()})")
    row: dict[str, object] = {"requests": args.requests, "rounds": args.rounds, "root": root,
                              "python": platform.python_version(), "profiled": args.profile is not None}
    for kind, ms in figures.items():
        row |= {f"{kind}_ms_min": round(min(ms), 3), f"{kind}_ms_median": round(statistics.median(ms), 3),
                f"{kind}_statements": round(sent[kind] / total, 1)}
    row |= {f"gc_gen{n}_ms": round(ms, 4) for n, ms in enumerate(per_request)}
    print(f"recorded in {record('api_cpu', row, checkout=root)}")


if __name__ == "__main__":
    main()
