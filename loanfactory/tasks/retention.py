"""The retention purge as a Celery task, and its place on Celery beat's schedule.

``RETENTION_PURGE_SECONDS`` (config, default a day; 0 for never) is how often beat runs :func:`purge_task` on
today's business date; ``loanfactory retention purge`` runs the same on demand. One transaction per page of
documents, then the sweep of orphan files; running it again finds nothing more to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from celery import shared_task
from flask import Flask
from sqlalchemy.orm import Session

from core.db.base import make_session_factory
from core.documents.storage import DocumentStore
from core.retention.purge import PurgePage, purge_in_pages, sweep_orphans
from loanfactory import clock
from loanfactory.database import get_db
from loanfactory.tasks.beat import schedule_every

TASK = "loanfactory.retention_purge"
DEFAULT_PURGE_SECONDS = 24 * 3600


@dataclass
class PurgeTotals:
    """What a whole run did."""

    examined: int = 0
    purged: int = 0
    held: int = 0
    files_deleted: int = 0
    orphans_deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"examined": self.examined, "purged": self.purged, "held": self.held,
                "files_deleted": self.files_deleted, "orphans_deleted": len(self.orphans_deleted)}


def purge_expired(session: Session, store: DocumentStore, day: date, *, actor: str, dry_run: bool = False,
                  page_size: int = 500, progress: Callable[[PurgeTotals], None] | None = None) -> PurgeTotals:
    """Purge what expired by ``day`` and sweep orphan files, committing page by page; ``progress`` is called
    after each page with the totals so far."""
    totals = PurgeTotals()
    now = datetime.now(UTC)
    pages: list[PurgePage] = []
    for page in purge_in_pages(session, store, day=day, now=now, actor=actor, page_size=page_size,
                               dry_run=dry_run):
        if not dry_run:
            session.commit()
        pages.append(page)
        totals.examined += page.examined
        totals.purged += len(page.purged)
        totals.held += page.held
        if progress is not None:
            progress(totals)
    totals.files_deleted = sum(len(page.files_deleted) for page in pages)
    totals.orphans_deleted = sweep_orphans(session, store, now=now, actor=actor, dry_run=dry_run)
    if not dry_run:
        session.commit()
    return totals


@shared_task(name=TASK)  # type: ignore[untyped-decorator]
def purge_task() -> dict[str, object]:
    """:func:`purge_expired` on today's business date."""
    from loanfactory.documents import document_store

    session = make_session_factory(get_db().engine)()
    try:
        return purge_expired(session, document_store(), clock.today(), actor="system:retention").as_dict()
    finally:
        session.close()


def schedule_purge(app: Flask) -> None:
    """Put :func:`purge_task` on Celery beat's schedule every ``RETENTION_PURGE_SECONDS`` (0: not)."""
    schedule_every(app, "loanfactory-retention-purge", TASK, "RETENTION_PURGE_SECONDS", DEFAULT_PURGE_SECONDS)
