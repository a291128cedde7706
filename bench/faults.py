"""Faults survived: the channel API under a steady load while its database, broker, web and Celery workers fail.

    .venv/bin/python bench/faults.py [--rate 100] [--seconds 40] [--faults backends,postgres,...]
                                     [--loans 40] [--eod-loans 10000] [--partition-size 500]

Everything runs on services of the suite's own (``bench/_services.py``): a PostgreSQL cluster made by
``initdb`` in a temporary folder and a Redis on free ports of 127.0.0.1, removed at the end; the shared servers
are never touched. The database gets a book of ``--eod-loans`` seeded loans (``bench/eod.py``'s seed) closed
through 2026-06-28, the CONSUMER_INSTALLMENT product and a channel key (``bench/_channel.py``), and ``--loans``
loans the channel took the whole way (apply, accept, sign, disburse, the sandbox bank's signed callback) so
that repayments move money. gunicorn serves the API (two sync workers, the business date pinned to
2026-06-30) with production settings: Celery on the Redis (not eager), the rate limit's counters in Redis. A
real worker (``celery -A loanfactory.worker worker``) delivers the webhooks to a receiver in this process,
subscribed to ``application.approved``, ``application.rejected`` and ``loan.*``.

Each fault gets a phase of ``--seconds`` (longer when the fault itself lasts longer) under ``--rate`` requests
a second, open-loop: per four, two quotes, an application and a repayment of a channel's loan, each POST with an
Idempotency-Key of its own. The client retries as a channel does: a 5xx, a 429, a 409 or a lost connection is
sent again, the same bytes under the same key, after ``Retry-After`` (at most 5 s) or 0.2 s, for up to 60 s
after the request was due. The faults, ``--seconds``/4 into the phase:

* ``backends``: a random backend of the database (gunicorn's, the worker's, a key cache listener) terminated
  every second for 10 s (``pg_terminate_backend``);
* ``postgres``: the server crashes (``pg_ctl stop -m immediate``) and starts again 3 s later (WAL replay);
* ``redis``: Redis stopped for 30 s, everything it held lost (the broker's queues, the rate limit's counters);
* ``gunicorn``: a gunicorn worker killed (SIGKILL) with requests in flight;
* ``celery-eod``: the end-of-day of 2026-06-29 sent to Celery, the worker's process group killed (SIGKILL)
  once three partitions are closed and more are under way, a new worker started;
* ``celery-webhooks``: the receiver slowed to 0.1 s an answer, the worker killed (SIGKILL) while deliveries
  are in flight, a new worker started.

A worker that exits on its own is started again, as a supervisor would (systemd's ``Restart=always``), and
the phase's note says so. The database is down from the crash until the server accepts connections again;
5xx answered in that window (and the second after it) must be 503 with ``Retry-After``, and none may be
answered outside it. The time to recover runs from the fault's end to: the first webhook delivered (Redis,
``celery-webhooks``), the end-of-day finalized (``celery-eod``), the first 2xx of an application or a
repayment (the others).

It prints a table, one row per fault: requests sent, answered (a final status), the final 2xx and 4xx, every
5xx answered (retries included) and how many of them fell outside the window in which the database was down
(which must be none) and whether those inside were 503 with ``Retry-After``; money (every repayment
acknowledged with a 2xx has exactly one servicing event whose journal entries took exactly its amount in
cash; a key never acknowledged has at most one; after the phase the trial balance balances and the balance
projection equals the journal); webhooks (the events of the phase's transitions, delivered at least once, lost:
a transition the subscription wants with no event, or an event never received, once the suite has waited for
the outbox to settle) and the latest delivery; and the seconds from the fault's end to the first success of
what it stopped. Each row is appended to ``bench/results/faults.csv``. About ten minutes at the defaults;
``--rate`` above what the machine serves makes a queue that every figure but the 5xx then measures.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from datetime import date
from decimal import Decimal
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

from _channel import APPLY, QUOTE, application
from _checks import Phase, Request, Window, answers, money, settle_webhooks
from _load import drive, request_bytes
from _record import record
from _services import (
    CLOSED_THROUGH,
    EOD_DATE,
    SUITE,
    PrivatePostgres,
    PrivateRedis,
    Receiver,
    World,
    celery_app,
    children,
    close_through,
    kill_group,
    kill_worker,
    seed_channel_loans,
    service_env,
    start_gunicorn,
    start_worker,
    subscribe,
    suite_engine,
    supervise,
    wait_for_worker,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAULTS = ("backends", "postgres", "redis", "gunicorn", "celery-eod", "celery-webhooks")
GIVE_UP = 60.0


def channel_retry(status: int, headers: dict[str, str]) -> float | None:
    """A channel's client: 5xx, 429 and 409 (a request in progress) are sent again after ``Retry-After``."""
    if status >= 500 or status in (409, 429):
        return min(float(headers.get("retry-after", "0.2") or 0.2), 5.0)
    return None


# ----------------------------------------------------------------------------------------------- the faults


def scalar(world: World, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    with world.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def terminate_backends(world: World) -> Window:
    """A random backend of the database terminated every second for 10 s."""
    begin, killed = time.time(), 0
    for _ in range(10):
        killed += int(scalar(world, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = 'faults' AND backend_type = 'client backend' AND "
                                    "application_name <> :suite AND pid <> pg_backend_pid() ORDER BY random() "
                                    "LIMIT 1) AS t", suite=SUITE) or 0)
        time.sleep(1)
    return Window(begin, time.time(), note=f"{killed} backends terminated")


def restart_postgres(world: World) -> Window:
    """A crash (``-m immediate``), 3 s down, then a start with WAL replay."""
    begin = time.time()
    world.postgres.stop("immediate")
    time.sleep(3)
    world.postgres.start()
    end = time.time()
    return Window(begin, end, database_down=True, note=f"crash, down {end - begin:.1f} s with the WAL replay")


def stop_redis(world: World) -> Window:
    begin = time.time()
    world.redis.stop()
    time.sleep(30)
    world.redis.start()
    end = time.time()
    after = first_delivery_after(world, end)
    exits = [code for at, code in world.restarts if at >= begin]
    note = "30 s down, nothing kept"
    if exits:
        note += f"; the Celery worker exited ({len(exits)}x, code {exits[0]}) and its supervisor restarted it"
    return Window(begin, end, recovered_after=after, note=note)


def kill_gunicorn_worker(world: World) -> Window:
    assert world.gunicorn is not None
    before = children(world.gunicorn.pid)
    victim = random.choice(before)
    os.kill(victim, signal.SIGKILL)
    killed = time.time()
    respawned = None
    for _ in range(600):
        now = children(world.gunicorn.pid)
        if len(now) == len(before) and victim not in now:
            respawned = time.time() - killed
            break
        time.sleep(0.1)
    return Window(killed, killed, note=f"worker {victim} killed; replaced after {respawned:.1f} s" if respawned
                  else f"worker {victim} killed; not replaced")


def closed_partitions(world: World, on: date) -> int:
    return int(scalar(world, "SELECT count(*) FROM eod_step_runs WHERE business_date = :on AND step = 'classify'",
                      on=on))


def kill_worker_mid_eod(world: World) -> Window:
    """The end-of-day of :data:`EOD_DATE` through Celery, its worker killed once three partitions are in."""
    from core.eod.run import plan_partitions
    from loanfactory.tasks.eod import run_with_celery

    with world.engine.connect() as conn:
        from sqlalchemy.orm import Session

        total = len(plan_partitions(Session(bind=conn), EOD_DATE, int(world.env["LOANFACTORY_EOD_PARTITION_SIZE"])))
    outcome: dict[str, Any] = {}

    def run() -> None:
        with world.app.app_context():
            try:
                outcome["report"] = run_with_celery(EOD_DATE, timeout=300)
            except Exception as error:  # reported, and the operator's re-run below
                outcome["error"] = error

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    for _ in range(3000):
        if closed_partitions(world, EOD_DATE) >= 3:
            break
        time.sleep(0.05)
    begin = time.time()
    kill_worker(world)
    at_kill = closed_partitions(world, EOD_DATE)
    end = time.time()
    runner.join(300)
    note = f"killed with {at_kill}/{total} partitions closed"
    if "error" in outcome or runner.is_alive():
        note += f"; the run failed ({outcome.get('error', 'timed out')!r}), re-run"
        with world.app.app_context():
            run_with_celery(EOD_DATE, timeout=300)
    finished = time.time()
    runs = scalar(world, "SELECT count(*) FROM eod_step_runs WHERE business_date = :on", on=EOD_DATE)
    finals = scalar(world, "SELECT count(*) FROM eod_step_runs WHERE business_date = :on AND step = 'finalize'",
                    on=EOD_DATE)
    once = runs == 5 * total + 1 and finals == 1
    return Window(begin, end, recovered_after=finished - end,
                  note=f"{note}; eod_step_runs {runs} = 5 x {total} partitions + finalize: "
                       f"{'once' if once else 'NOT ONCE'}")


def kill_worker_mid_webhooks(world: World) -> Window:
    """The receiver slowed, the worker killed while deliveries are in flight."""
    world.receiver.delay = 0.1
    for _ in range(400):
        if scalar(world, "SELECT count(*) FROM webhook_events WHERE status = 'pending'") >= 5:
            break
        time.sleep(0.05)
    pending = scalar(world, "SELECT count(*) FROM webhook_events WHERE status = 'pending'")
    begin = time.time()
    kill_worker(world)
    end = time.time()
    after = first_delivery_after(world, end)
    world.receiver.delay = 0.0
    return Window(begin, end, recovered_after=after, note=f"killed with {pending} events pending")


def first_delivery_after(world: World, moment: float, timeout: float = 120) -> float | None:
    """Seconds from ``moment`` to the receiver's first delivery after it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with world.receiver.lock:
            later = [at for at in world.receiver.times if at > moment]
        if later:
            return min(later) - moment
        time.sleep(0.1)
    return None


INJECT = {"backends": terminate_backends, "postgres": restart_postgres, "redis": stop_redis,
          "gunicorn": kill_gunicorn_worker, "celery-eod": kill_worker_mid_eod,
          "celery-webhooks": kill_worker_mid_webhooks}
#: how long each fault lasts at the least, for the phase's length
LASTS = {"backends": 10.0, "postgres": 5.0, "redis": 30.0, "gunicorn": 0.0, "celery-eod": 20.0,
         "celery-webhooks": 10.0}


# ----------------------------------------------------------------------------------------------- a phase


def phase_requests(world: World, number: int, name: str, seconds: float) -> tuple[list[tuple[str, bytes]],
                                                                                  list[Request]]:
    """Per four requests: a quote, an application, a quote, a repayment of one of the channel's loans."""
    prepared: list[tuple[str, bytes]] = []
    requests: list[Request] = []
    for n in range(int(world.args.rate * seconds)):
        slot = n % 4
        if slot in (0, 2):
            body: dict[str, Any] = {"amount": str(1000 + 100 * (n % 400)), "term": 12, "method": "equal_installment"}
            prepared.append(("quote", request_bytes(QUOTE, world.key, body)))
            requests.append(Request("quote"))
        elif slot == 1:
            key = f"{name}-a{n}"
            prepared.append(("application", request_bytes(APPLY, world.key, application(number * 10**6 + n), key)))
            requests.append(Request("application", key))
        else:
            key, amount = f"{name}-r{n}", Decimal(1 + n % 97) + Decimal(n % 100) / 100
            loan = world.loans[(n // 4) % len(world.loans)]
            prepared.append(("repayment", request_bytes(f"/api/v1/loans/{loan}/repayments", world.key,
                                                        {"amount": f"{amount:.2f}"}, key)))
            requests.append(Request("repayment", key, amount))
    return prepared, requests


def _drive(port: int, prepared: list[tuple[str, bytes]], rate: float, results: Queue[Any]) -> None:
    results.put(drive(port, prepared, rate, retry=channel_retry, give_up=GIVE_UP, started=results.put))


def run_phase(world: World, number: int, name: str) -> Phase:
    lead = world.args.seconds / 4
    seconds = max(world.args.seconds, lead + LASTS[name] + 10)
    prepared, requests = phase_requests(world, number, name, seconds)
    get_db(world.app).engine.dispose()  # connections of the suite's app from before a restart
    results: Queue[Any] = Queue()
    process = Process(target=_drive, args=(world.port, prepared, world.args.rate, results), daemon=True)
    process.start()
    began = results.get()
    time.sleep(max(0.0, began + lead - time.time()))
    window = INJECT[name](world)
    samples, _elapsed, _cpu = results.get()
    process.join()
    phase = Phase(name, began, seconds, window, samples, requests)
    phase.figures = answers(phase) | money(world, phase)
    return phase


def get_db(app: Any) -> Any:
    from loanfactory.database import get_db as database

    return database(app)


#: seconds after the database is back in which a 503 answered is still the outage's
# ----------------------------------------------------------------------------------------------- the report

COLUMNS = [("fault", "{:<16}"), ("sent", "{:>6}"), ("answered", "{:>9}"), ("final_2xx", "{:>6}"),
           ("final_4xx", "{:>5}"), ("responses_5xx", "{:>5}"), ("outside_window_5xx", "{:>8}"),
           ("inside_503_retry_after", "{:>7}"), ("lost_connections", "{:>5}"), ("money", "{:>18}"),
           ("webhooks", "{:>15}"), ("latest_delivery_s", "{:>7}"), ("recovered_s", "{:>8}")]
HEADINGS = {"final_2xx": "2xx", "final_4xx": "4xx", "responses_5xx": "5xx", "outside_window_5xx": "5xx out",
            "inside_503_retry_after": "503+RA", "lost_connections": "lost", "latest_delivery_s": "late s",
            "recovered_s": "recover s"}


def report(phases: list[Phase], args: argparse.Namespace, load: float) -> None:
    print(f"\nfaults survived: {args.rate:.0f} requests/s offered (2 quotes, an application, a repayment in four), "
          f"phases of {args.seconds:.0f} s or more; load average before: {load:.2f}")
    print(" ".join(fmt.format(HEADINGS.get(name, name)) for name, fmt in COLUMNS))
    for phase in phases:
        f = phase.figures
        cells = {**f, "fault": phase.name,
                 "money": f"{'yes' if f['money_once'] else 'NO'} {f['repayments_2xx']}/{f['money_wrong']}",
                 "webhooks": f"{f.get('webhook_events')}/{f.get('webhooks_delivered')}/{f.get('webhooks_lost')}",
                 "inside_503_retry_after": "yes" if f["inside_503_retry_after"] else "NO"}
        print(" ".join(fmt.format("-" if cells.get(name) is None else cells[name]) for name, fmt in COLUMNS))
    print("money: once (yes/NO) repayments acknowledged/wrong; webhooks: events/delivered at least once/lost; "
          "late s: the latest delivery after its transition; recover s: from the fault's end to the first success")
    for phase in phases:
        f = phase.figures
        print(f"  {phase.name}: {f['note']}; final 5xx {f['final_5xx']}, retried {f['retried']}, "
              f"2xx p50/p99 {f['p50_ms']}/{f['p99_ms']} ms, repayments posted but never acknowledged "
              f"{f['posted_unacknowledged']}; worst latency of each 5 s, ms: {f['worst_ms_each_5s']}")
        row = {"fault": phase.name, "rate": args.rate, "seconds": phase.seconds, "load_before": round(load, 2),
               **{name: value for name, value in f.items() if name != "note"}, "note": f["note"]}
        print(f"    recorded in {record('faults', row)}")


# ----------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second offered")
    parser.add_argument("--seconds", type=float, default=40.0, help="a phase's length at the least")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of {', '.join(FAULTS)}")
    parser.add_argument("--loans", type=int, default=40, help="the channel's loans that repayments pay")
    parser.add_argument("--eod-loans", type=int, default=10_000, help="seeded loans the end-of-day closes")
    parser.add_argument("--partition-size", type=int, default=500)
    args = parser.parse_args()
    faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"--faults: unknown {', '.join(sorted(unknown))}")
    load = os.getloadavg()[0]
    logs = Path(tempfile.mkdtemp(prefix="lf-faults-logs-"))
    postgres, redis = PrivatePostgres(), PrivateRedis()
    world: World | None = None
    receiver = Receiver()
    try:
        postgres.start()
        redis.start()
        from sqlalchemy import create_engine, text

        admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE faults"))
        admin.dispose()
        url = postgres.url("faults")
        import eod
        from _channel import prepare

        began = time.time()
        eod.seed(url, args.eod_loans)
        key = prepare(url)
        loans = seed_channel_loans(url, key, args.loans)
        close_through(url, CLOSED_THROUGH, args.partition_size)
        engine = suite_engine(url)
        with engine.connect() as conn:
            client_id = int(conn.execute(text("SELECT id FROM api_clients WHERE channel = 'bench'")).scalar_one())
        world = World(args, postgres, redis, url, key, client_id, loans, receiver, None, engine,
                      service_env(url, redis, args.partition_size), logs)
        world.app = celery_app(world)
        start_gunicorn(world)
        subscription = subscribe(world)
        wait_for_worker(world, start_worker(world))
        threading.Thread(target=supervise, args=(world,), daemon=True).start()
        print(f"ready in {time.time() - began:.0f} s: {args.eod_loans:,} seeded loans closed through "
              f"{CLOSED_THROUGH}, {len(loans)} channel loans, PostgreSQL on port {postgres.port}, Redis on "
              f"{redis.port}, gunicorn on {world.port}; logs in {logs}", flush=True)
        phases = []
        for number, name in enumerate(faults, 1):
            phase = run_phase(world, number, name)
            phases.append(phase)
            print(f"{name}: {phase.figures}", flush=True)
        settle_webhooks(world, subscription, phases)
        report(phases, args, load)
    finally:
        if world is not None:
            world.stopping = True
            time.sleep(0.6)
            for process in [*world.workers, *([world.gunicorn] if world.gunicorn else [])]:
                kill_group(process, signal.SIGTERM if process is world.gunicorn else signal.SIGKILL)
            world.engine.dispose()
        receiver.close()
        redis.stop()
        postgres.remove()


if __name__ == "__main__":
    main()
