"""The loan balance projection proven against the journal on Celery: one task per range of loan ids.

Balance reads serve the projection (:func:`core.ledger.loan_balances`); this job is what shows it right.
:func:`verify_projection` (on Celery beat's schedule every ``PROJECTION_VERIFY_SECONDS``, default a day;
``0`` leaves it off the schedule) plans the ranges of ``PROJECTION_VERIFY_RANGE_SIZE`` loan ids (default
50,000) and sends one :func:`verify_range` per range, each comparing its range in a read-only
transaction of its own, so the workers share a large book; it logs (INFO) how many ranges it sent. Each
range logs what it found (:func:`report`): every difference and the range's count at ERROR on the
``loanfactory.ledger`` logger (where the operators' alerting listens), or that the range is proven at INFO;
nothing waits for a result, so no result backend is needed. Nothing is
repaired here: a difference means something wrote the projection outside the ledger, which someone should
understand before ``loanfactory ledger rebuild-projection --loan-ids`` rewrites the rows from the journal.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import Flask, current_app

from core.db.base import make_session_factory
from core.ledger import LoanRange, compare_projection, projection_ranges
from core.ledger.projection import DEFAULT_RANGE_SIZE
from loanfactory.database import get_db
from loanfactory.tasks.beat import schedule_every

VERIFY_TASK = "loanfactory.ledger.verify_projection"
RANGE_TASK = "loanfactory.ledger.verify_projection_range"
DEFAULT_VERIFY_SECONDS = 86_400
#: differences a range returns in full (the rest are counted): a wiped projection must not flood the results
SHOWN = 100

log = logging.getLogger("loanfactory.ledger")


@shared_task(name=RANGE_TASK, acks_late=True, reject_on_worker_lost=True,  # type: ignore[untyped-decorator]
             ignore_result=True)
def verify_range(first: int, last: int) -> dict[str, Any]:
    """Compare the projection with the journal for loan ids ``first..last`` and log it (:func:`report`);
    changes nothing."""
    session = make_session_factory(get_db().engine)()
    try:
        found = compare_projection(session, LoanRange(first, last))
    finally:
        session.rollback()
        session.close()
    result = {"range": f"{first}-{last}", "count": len(found),
              "differences": [{"loan_id": d.loan_id, "bucket": d.bucket, "journal": str(d.journal),
                               "projection": str(d.projection)} for d in found[:SHOWN]]}
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    """Log what one range found: every difference and the range's count (ERROR), or that it is proven (INFO)."""
    for d in result["differences"]:
        log.error("loan balance projection differs from the journal: loan %s %s: journal %s projection %s",
                  d["loan_id"], d["bucket"], d["journal"], d["projection"])
    if result["count"] > len(result["differences"]):
        log.error("loan ids %s: %d more differences not shown", result["range"],
                  result["count"] - len(result["differences"]))
    if result["count"]:
        log.error("loan balance projection: %d difference(s) from the journal in loan ids %s",
                  result["count"], result["range"])
    else:
        log.info("loan balance projection proven against the journal for loan ids %s", result["range"])


@shared_task(name=VERIFY_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def verify_projection(size: int | None = None) -> dict[str, Any]:
    """Send one :func:`verify_range` per range of the book, having logged (INFO) how many ranges it sends."""
    size = int(size or current_app.config.get("PROJECTION_VERIFY_RANGE_SIZE", DEFAULT_RANGE_SIZE))
    session = make_session_factory(get_db().engine)()
    try:
        ranges = projection_ranges(session, size)
    finally:
        session.rollback()
        session.close()
    log.info("loan balance projection: verifying %d range(s) of %d loan ids", len(ranges), size)
    for part in ranges:
        verify_range.apply_async((part.first, part.last))
    return {"ranges": len(ranges)}


def schedule_verification(app: Flask) -> None:
    """Put :func:`verify_projection` on Celery beat's schedule every ``PROJECTION_VERIFY_SECONDS`` (0: not)."""
    schedule_every(app, "loanfactory-verify-projection", VERIFY_TASK, "PROJECTION_VERIFY_SECONDS",
                   DEFAULT_VERIFY_SECONDS)
