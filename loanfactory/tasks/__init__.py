"""Celery tasks of the app; ``init_app`` registers them (importing the modules binds the shared tasks).

Configuration: ``EOD_PARTITION_SIZE`` (loan ids per partition, default 50,000), ``EXPIRY_SECONDS`` (how often
beat sweeps lapsed offers and returns, default 600), ``PROJECTION_VERIFY_SECONDS`` and
``PROJECTION_VERIFY_RANGE_SIZE`` (how often beat proves the balance projection against the journal, default
a day, 0 for never; loan ids per range, default 50,000), ``DEBIT_RUN_SECONDS`` (how often beat starts the
due run of automatic debits, default an hour), ``CUSTOMER_RETAG_SECONDS`` (how often beat runs the
customer tag rules, default a day, 0 for never), ``RETENTION_PURGE_SECONDS`` (how often beat runs the
retention purge, default a day, 0 for never). The end-of-day and
servicing tables are part of :mod:`loanfactory.models`, so the database's ``init_app`` creates them.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init
from flask import Flask

from core.eod.run import DEFAULT_PARTITION_SIZE
from loanfactory.database import get_db


def init_app(app: Flask) -> None:
    """Register the task modules and the EOD defaults on ``app``."""
    from loanfactory.tasks import eod  # noqa: F401  (defines the shared tasks)
    from loanfactory.tasks.customers import schedule_retag
    from loanfactory.tasks.debits import schedule_due_run
    from loanfactory.tasks.eod import DEFAULT_EOD_AT, eod_at, schedule_eod
    from loanfactory.tasks.expiry import schedule_expiry
    from loanfactory.tasks.ledger import schedule_verification
    from loanfactory.tasks.retention import schedule_purge

    app.config.setdefault("EOD_PARTITION_SIZE", DEFAULT_PARTITION_SIZE)
    app.config.setdefault("EOD_AT", DEFAULT_EOD_AT)
    eod_at(app.config["EOD_AT"])
    if "celery" in app.extensions:
        schedule_eod(app)
        schedule_expiry(app)
        schedule_verification(app)
        schedule_due_run(app)
        schedule_retag(app)
        schedule_purge(app)
    engine = get_db(app).engine

    def fresh_connections(**_: Any) -> None:
        # a prefork child must not share the parent's pooled connections (one socket, two processes)
        engine.dispose(close=False)

    worker_process_init.connect(fresh_connections, weak=False)
