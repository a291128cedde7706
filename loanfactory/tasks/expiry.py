"""The expiry sweep as a Celery task, and its place on Celery beat's schedule.

The sweep expires lapsed offers and unanswered returns (:func:`core.origination.expiry.expire_applications`)
and the credit lines past their last day (:func:`core.credit_lines.lifecycle.expire_lines`, by the date in
Asia/Shanghai), in one transaction.

``EXPIRY_SECONDS`` (config, default 600) is how often beat runs :func:`expire_applications`; the
deadlines themselves are fixed when an offer is made or an application returned, so the interval only
bounds how late the expiry is seen.
"""

from __future__ import annotations

from datetime import UTC, datetime

from celery import shared_task
from flask import Flask

from core.credit_lines.lifecycle import expire_lines
from core.db.base import make_session_factory
from core.origination.expiry import ACTOR
from core.origination.expiry import expire_applications as expire
from loanfactory.clock import SHANGHAI
from loanfactory.database import get_db

TASK = "loanfactory.expire_applications"
DEFAULT_EXPIRY_SECONDS = 600


@shared_task(name=TASK)  # type: ignore[untyped-decorator]
def expire_applications() -> dict[str, list[int]]:
    """Expire lapsed offers, unanswered returns and lines past their last day in one transaction; the ids
    expired, by why."""
    session = make_session_factory(get_db().engine)()
    now = datetime.now(UTC)
    try:
        result = expire(session, now)
        lines = expire_lines(session, now.astimezone(SHANGHAI).date(), actor=ACTOR, now=now)
        session.commit()
    finally:
        session.close()
    return {"offers": list(result.offers), "returns": list(result.returns), "lines": [line.id for line in lines]}


def schedule_expiry(app: Flask) -> None:
    """Put the sweep on Celery beat's schedule every ``EXPIRY_SECONDS``."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-expire-applications"] = {
        "task": TASK, "schedule": float(app.config.get("EXPIRY_SECONDS", DEFAULT_EXPIRY_SECONDS))}
    celery.conf.beat_schedule = schedule
