"""``/healthz`` (liveness) and ``/readyz`` (readiness), outside the channel API and the admin.

``/healthz`` answers 200 while the process serves requests; it asks nothing else, so a restart is never
triggered by a database outage. ``/readyz`` answers 200 when every check passes and 503 naming the ones that
fail, each with a word on why (JSON: ``{"status": "ready"|"not ready", "checks": {name: {"ok", "detail"}}}``):

============== ===============================================================================================
check          passes when
============== ===============================================================================================
``database``   ``SELECT 1`` answers
``broker``     the Celery broker accepts a connection (the embedded default has none to ask)
``migrations`` the database is at every migration head, the core's and each plugin's (skipped while the app
               creates its tables itself, ``AUTO_CREATE_TABLES``)
``eod``        the last closed business date is at most ``READY_EOD_MAX_AGE_DAYS`` (default 2) days before
               today's business date (a database never closed passes), and no end-of-day run has stalled
               (``EOD_STALL_SECONDS`` without progress)
============== ===============================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, Response, jsonify
from sqlalchemy import text

from core.businessday.closes import last_closed
from core.db.base import make_session_factory
from core.eod.runs import open_run
from loanfactory import clock
from loanfactory.database import get_db

DEFAULT_MAX_AGE_DAYS = 2
HEADS = "loanfactory.migration_heads"


@dataclass(frozen=True)
class Check:
    """One readiness check's verdict."""

    ok: bool
    detail: str


def check_database(app: Flask) -> Check:
    with get_db(app).engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return Check(True, get_db(app).engine.dialect.name)


def check_broker(app: Flask) -> Check:
    celery = app.extensions["celery"]
    if celery.conf.task_always_eager:
        return Check(True, "embedded (tasks run in the serving process)")
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return Check(True, connection.as_uri())


def _script_heads(app: Flask) -> set[str]:
    if HEADS not in app.extensions:
        from loanfactory.migrate import alembic_config, plugin_schemas

        config = alembic_config(str(get_db(app).engine.url.render_as_string(hide_password=False)), plugin_schemas())
        app.extensions[HEADS] = set(ScriptDirectory.from_config(config).get_heads())
    heads: set[str] = app.extensions[HEADS]
    return heads


def check_migrations(app: Flask) -> Check:
    if app.config.get("AUTO_CREATE_TABLES", True):
        return Check(True, "tables created by the app (AUTO_CREATE_TABLES)")
    expected = _script_heads(app)
    with get_db(app).engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == expected:
        return Check(True, "at " + ", ".join(sorted(current)))
    at = ", ".join(sorted(current)) or "nothing"
    return Check(False, f"database at {at}; heads are {', '.join(sorted(expected))} (run loanfactory db upgrade)")


def check_eod(app: Flask) -> Check:
    from loanfactory.tasks.eod import stall_after

    business = clock.clock_of(app)
    max_age = int(app.config.get("READY_EOD_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))
    with make_session_factory(get_db(app).engine)() as session:
        last = last_closed(session)
        running = open_run(session)
    if running is not None and running.stalled(clock.now(), stall_after()):
        return Check(False, f"end-of-day {running.business_date} stalled: {running.done} of {running.partitions} "
                            f"partitions, nothing since {running.last_activity.isoformat()}")
    if last is None:
        return Check(True, "never closed")
    if business.today() - last > timedelta(days=max_age):
        return Check(False, f"last closed business date {last} is more than {max_age} days before {business.today()}")
    return Check(True, f"last closed {last}")


CHECKS: dict[str, Callable[[Flask], Check]] = {"database": check_database, "broker": check_broker,
                                               "migrations": check_migrations, "eod": check_eod}


def readiness(app: Flask) -> dict[str, Check]:
    """Every check's verdict; a check that raises fails with the error's class and message."""
    found: dict[str, Check] = {}
    for name, check in CHECKS.items():
        try:
            with app.app_context():
                found[name] = check(app)
        except Exception as error:
            found[name] = Check(False, f"{type(error).__name__}: {error}"[:300])
    return found


def init_app(app: Flask) -> None:
    """Serve ``/healthz`` and ``/readyz``."""

    def healthz() -> Response:
        return jsonify({"status": "alive"})

    def readyz() -> tuple[Response, int]:
        checks = readiness(app)
        ready = all(c.ok for c in checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not ready",
                                "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()}}
        return jsonify(body), 200 if ready else 503

    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
