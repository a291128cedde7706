"""The compare job on Celery: beat runs it daily, each range of loan ids logs a tampered projection row at
ERROR, and once the rebuild repaired the row every range logs that it is proven."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from books.factories import tamper_projection, three_loans
from core.ledger import rebuild_projection
from loanfactory.app import create_app
from loanfactory.database import get_db
from loanfactory.tasks.ledger import VERIFY_TASK, verify_projection

D = Decimal


@pytest.fixture
def eager_app(db_url: str) -> Iterator[Any]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "PROJECTION_VERIFY_RANGE_SIZE": 2})
    yield app
    get_db(app).engine.dispose()


def test_the_celery_job_logs_a_tampered_row_and_is_silent_once_the_rebuild_repaired_it(eager_app, caplog):
    with eager_app.app_context():
        session = get_db(eager_app).session()
        loans = three_loans(session)
        tamper_projection(session, loans[2], interest=D("9.9900"))
        caplog.set_level(logging.INFO, logger="loanfactory.ledger")
        assert verify_projection.delay().get() == {"ranges": 2}
        # ranges of two ids aligned on multiples of two: the tampered loan's range is the one that reports it
        tampered = f"{(loans[2] - 1) // 2 * 2 + 1}-{(loans[2] - 1) // 2 * 2 + 2}"
        # only the ledger job's own lines (Celery's tracer logs each eager task too once a test set INFO)
        ledger = [r for r in caplog.records if r.name == "loanfactory.ledger"]
        errors = [r.getMessage() for r in ledger if r.levelno == logging.ERROR]
        assert errors == [f"loan balance projection differs from the journal: loan {loans[2]} interest: "
                          "journal 4.3500 projection 9.9900",
                          f"loan balance projection: 1 difference(s) from the journal in loan ids {tampered}"]
        rebuild_projection(session)
        session.commit()
        caplog.clear()
        verify_projection.delay().get()
        ledger = [r for r in caplog.records if r.name == "loanfactory.ledger"]
        assert [r.levelno for r in ledger] == [logging.INFO] * 3
        messages = [r.getMessage() for r in ledger]
        assert messages[0] == "loan balance projection: verifying 2 range(s) of 2 loan ids"
        assert [m.rsplit(" ", 1)[0] for m in messages[1:]] == [
            "loan balance projection proven against the journal for loan ids"] * 2
        assert messages[2].endswith(f" {tampered}")
        session.close()


def test_celery_beat_proves_the_projection_daily_unless_turned_off(tmp_path):
    daily = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite3", "TESTING": True})
    beat = daily.extensions["celery"].conf.beat_schedule["loanfactory-verify-projection"]
    assert beat == {"task": VERIFY_TASK, "schedule": 86_400.0}
    off = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3", "TESTING": True,
                      "PROJECTION_VERIFY_SECONDS": 0})
    assert "loanfactory-verify-projection" not in off.extensions["celery"].conf.beat_schedule
    for app in (daily, off):
        get_db(app).engine.dispose()
