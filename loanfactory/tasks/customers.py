"""The tag rules over every customer as a Celery task, and its place on Celery beat's schedule.

``CUSTOMER_RETAG_SECONDS`` (config, default a day; 0 for never) is how often beat runs :func:`retag_task` on
today's business date; ``loanfactory customers retag`` runs the same on demand. One transaction per page of
customers, so a long run keeps what it finished, and running it again recomputes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from celery import shared_task
from flask import Flask
from sqlalchemy.orm import Session

from core.db.base import make_session_factory
from core.portfolio.customer_tags import retag_in_pages
from loanfactory import clock
from loanfactory.database import get_db
from loanfactory.tasks.beat import schedule_every

TASK = "loanfactory.retag_customers"
DEFAULT_RETAG_SECONDS = 24 * 3600


def retag_customers(session: Session, day: date) -> tuple[int, Counter[str]]:
    """Run the rules in force on ``day`` over every customer, committing page by page; how many customers,
    and how many of each tag were set."""
    customers, total = 0, Counter[str]()
    for count, tags in retag_in_pages(session, as_of=day, now=datetime.now(UTC)):
        session.commit()
        customers += count
        total.update(tags)
    return customers, total


@shared_task(name=TASK)  # type: ignore[untyped-decorator]
def retag_task() -> dict[str, object]:
    """:func:`retag_customers` on today's business date."""
    session = make_session_factory(get_db().engine)()
    try:
        customers, tags = retag_customers(session, clock.today())
        return {"customers": customers, "tags": dict(tags)}
    finally:
        session.close()


def schedule_retag(app: Flask) -> None:
    """Put :func:`retag_task` on Celery beat's schedule every ``CUSTOMER_RETAG_SECONDS`` (0: not)."""
    schedule_every(app, "loanfactory-retag-customers", TASK, "CUSTOMER_RETAG_SECONDS", DEFAULT_RETAG_SECONDS)
