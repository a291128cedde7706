"""End-of-day through Celery: the embedded (eager) default, a real worker on Redis, and a worker killed
with SIGKILL half-way. Each compares the books with the same end-of-day run inline on an identical
database; the worker tests need Redis at 127.0.0.1:6379 (they skip outside CI without it)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from click.testing import CliRunner
from servicing.helpers import books_picture, seed_calendar, seed_portfolio
from sqlalchemy import func, select

from core.businessday.closes import EodStepRun
from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from loanfactory.app import create_app
from loanfactory.cli import main
from loanfactory.tasks.eod import run_with_celery
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 4)


def redis_url() -> str | None:
    try:
        import redis

        number = random.randint(8, 15)
        redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=1).ping()
        return f"redis://127.0.0.1:6379/{number}"
    except Exception:
        return None


def prepare(url: str, loans: int) -> None:
    """Seed the calendar and ``loans`` loans, and close the first business date inline."""
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        seed_portfolio(session, loans)
        run_eod(session, FIRST)
        session.commit()
    engine.dispose()


def picture(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        result = books_picture(session)
    engine.dispose()
    return result


def inline(url: str, loans: int) -> list[tuple[object, ...]]:
    prepare(url, loans)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        run_eod(session, LAST)
        session.commit()
    engine.dispose()
    return picture(url)


def test_eod_run_command_on_the_embedded_default_equals_eod_inline(tmp_path, monkeypatch):
    inline_url = f"sqlite:///{tmp_path}/inline.sqlite3"
    expected = inline(inline_url, 12)
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    prepare(url, 12)
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["eod", "run", "--date", LAST.isoformat(), "--partition-size", "5"])
    assert result.exit_code == 0, result.output
    assert "closed 2026-03-02..2026-03-04" in result.output
    assert picture(url) == expected
    again = CliRunner().invoke(main, ["eod", "run", "--date", LAST.isoformat()])
    assert "nothing to do" in again.output
    refused = CliRunner().invoke(main, ["eod", "run", "--date", "2031-01-01"])
    assert refused.exit_code == 2 and "business_date" in refused.output


@pytest.mark.postgres
def test_eod_with_two_local_worker_processes_equals_eod_inline(postgres_url, second_postgres_url, monkeypatch):
    expected = inline(second_postgres_url, 30)
    prepare(postgres_url, 30)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    result = CliRunner().invoke(main, ["eod", "run", "--date", LAST.isoformat(), "--workers", "2",
                                       "--partition-size", "4", "--json"])
    assert result.exit_code == 0, result.output
    assert picture(postgres_url) == expected


@pytest.mark.redis
@pytest.mark.postgres
def test_eod_through_a_real_worker_on_redis_equals_eod_inline(postgres_url, second_postgres_url):
    broker = redis_url()
    require_service(broker is not None, "Redis is not reachable at 127.0.0.1:6379")
    expected = inline(second_postgres_url, 30)
    prepare(postgres_url, 30)
    queue = f"eod-test-{uuid.uuid4().hex[:8]}"
    app = create_app({"DATABASE_URL": postgres_url, "EOD_PARTITION_SIZE": 4,
                      "CELERY": {"broker_url": broker, "task_always_eager": False, "task_default_queue": queue}})
    celery = app.extensions["celery"]
    with start_worker(celery, pool="threads", concurrency=2, perform_ping_check=False, queues=[queue],
                      shutdown_timeout=30), app.app_context():
        seen: list[tuple[date, int, int]] = []
        report = run_with_celery(LAST, timeout=120, progress=lambda on, done, total: seen.append((on, done, total)))
    assert report.dates == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    # the bars of `eod run`: read from the run log, each date's ending full
    assert seen and all(0 <= done <= total for _on, done, total in seen)
    assert seen[-1][1] == seen[-1][2] > 0 and seen[-1][0] in report.dates
    assert picture(postgres_url) == expected


def _worker(env: dict[str, str], queue: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "loanfactory.worker", "worker", "-Q", queue,
                             "-n", name, "-c", "2", "--pool", "prefork", "--loglevel", "WARNING",
                             "--without-mingle", "--without-gossip", "--without-heartbeat"],
                            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(celery, name: str, attempts: int = 300) -> None:
    """Wait until worker ``name`` answers a ping (starting the app takes a while on a busy machine);
    counts one-second pings rather than reading the clock, which jumps on a shared sandbox."""
    for _ in range(attempts):
        if celery.control.ping(destination=[name], timeout=1):
            return
    raise AssertionError(f"worker {name} did not answer {attempts} pings")


@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_killed_mid_run_leaves_the_run_to_finish_within_a_minute_of_the_restart(postgres_url,
                                                                                        second_postgres_url):
    """A worker (its whole process group) is killed with SIGKILL early in the first date's ten partitions, with
    no result backend and Redis's visibility timeout at its default (900 s). The ``eod run`` that started the
    run keeps watching; once a new worker is up, the stalled run's missing partitions are resent and the run
    finishes within a minute, with the books of an uninterrupted run."""
    broker = redis_url()
    require_service(broker is not None, "Redis is not reachable at 127.0.0.1:6379")
    queue = f"eod-kill-{uuid.uuid4().hex[:8]}"
    settings = {"DATABASE_URL": postgres_url, "EOD_PARTITION_SIZE": 6, "EOD_STALL_SECONDS": 5,
                "CELERY": {"broker_url": broker, "task_always_eager": False, "task_default_queue": queue}}
    env = {**os.environ, "DATABASE_URL": postgres_url, "LOANFACTORY_EOD_PARTITION_SIZE": "6",
           "LOANFACTORY_EOD_STALL_SECONDS": "5", "LOANFACTORY_CELERY__broker_url": broker,
           "LOANFACTORY_CELERY__task_always_eager": "false", "LOANFACTORY_CELERY__task_default_queue": queue,
           "PYTHONPATH": str(ROOT)}
    names = [f"{queue}-{k}@localhost" for k in (1, 2)]
    prepare(postgres_url, 60)  # tables first: the worker's app would create them concurrently otherwise
    first = _worker(env, queue, names[0])
    second: subprocess.Popen[bytes] | None = None
    engine = make_engine(postgres_url)
    outcome: dict[str, object] = {}
    try:
        expected = inline(second_postgres_url, 60)
        app = create_app(settings)
        assert not app.extensions["celery"].conf.result_backend
        celery = app.extensions["celery"]
        _wait_for(celery, names[0])

        def closed_partitions() -> int:
            with engine.connect() as conn:
                return int(conn.scalar(select(func.count()).select_from(EodStepRun)) or 0)

        before = closed_partitions()

        def watched_run() -> None:
            with app.app_context():
                try:
                    outcome["report"] = run_with_celery(LAST, timeout=600)
                except Exception as error:  # the assertion below shows it
                    outcome["error"] = error
            outcome["finished"] = time.monotonic()

        runner = threading.Thread(target=watched_run, daemon=True)
        runner.start()
        for _ in range(6000):
            if closed_partitions() >= before + 3:
                break
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        assert before + 3 <= closed_partitions() < before + 30, "the worker was not killed mid-run"
        second = _worker(env, queue, names[1])
        _wait_for(celery, names[1])
        restarted = time.monotonic()
        runner.join(120)
        assert not runner.is_alive() and "error" not in outcome, outcome
        assert float(outcome["finished"]) - restarted < 60  # type: ignore[arg-type]
        assert outcome["report"].dates[-1] == LAST  # type: ignore[attr-defined]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        engine.dispose()
    assert picture(postgres_url) == expected
