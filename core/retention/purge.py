"""The purge: remove the records whose retention has run out, and the stored files nobody refers to.

A document may go on ``day`` when its class's rule in force (:func:`core.retention.rules.rules_in_force`) has
run out: ``years`` after the end of its owner's relationship (:func:`core.retention.relationship
.relationship_end`; never while it is open) or after its upload day (``record_date`` classes), and its owner
is under no open legal hold (:mod:`core.retention.holds`). A document of a class no rule names is kept.
Each document purged leaves a ``retention.purge`` audit event (what it was, the rule version, the day counted
from and the first day it could go). Its bytes are deleted once no record refers to their digest any more
(``retention.purge_file``). :func:`sweep_orphans` deletes stored files no record refers to that are older than a
grace period (an upload writes its bytes just before its record commits), each audited as
``retention.orphan_file``.

:func:`purge_in_pages` works a page of documents at a time and yields after each, so the caller commits per
page (a long run keeps what it finished and may be run again); with ``dry_run`` it only reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.backoffice import audit
from core.customers.parties import PartyRef
from core.documents.files import Document
from core.documents.storage import DocumentStore
from core.retention.holds import held_subjects
from core.retention.relationship import relationship_end
from core.retention.rules import RELATIONSHIP_END, RetentionRule, rules_in_force

#: how old a stored file with no record must be before the sweep deletes it
ORPHAN_GRACE = timedelta(days=1)
SYSTEM = "system:retention"


@dataclass(frozen=True)
class Verdict:
    """Why a document may go: its rule, the day its retention counted from and the first day it may go."""

    rule: RetentionRule
    counted_from: date
    purge_from: date

    def reason(self) -> str:
        basis = "the relationship ended" if self.rule.counted_from == RELATIONSHIP_END else "the record's date"
        return (f"{self.rule.record_class}: kept {self.rule.years} years after {basis} ({self.counted_from}), "
                f"purgeable from {self.purge_from} ({self.rule.version})")


@dataclass
class PurgePage:
    """What one page did: documents looked at, purged (ids), kept under hold, files deleted."""

    examined: int = 0
    purged: list[int] = field(default_factory=list)
    held: int = 0
    files_deleted: list[str] = field(default_factory=list)


class _Owners:
    """Per-run cache of each owner's relationship end (documents' days included) and the held owners."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.held = held_subjects(session)
        self._ends: dict[PartyRef, date | None] = {}

    def end(self, owner: PartyRef) -> date | None:
        if owner not in self._ends:
            column = Document.customer_id if owner.kind == "individual" else Document.enterprise_id
            latest = self.session.scalar(select(func.max(Document.uploaded_at)).where(column == owner.id))
            records = [latest.date()] if latest is not None else []
            self._ends[owner] = relationship_end(self.session, owner, records=records)
        return self._ends[owner]


def verdict(document: Document, rules: dict[str, RetentionRule], end: date | None, day: date) -> Verdict | None:
    """The :class:`Verdict` if ``document`` has expired on ``day`` (its owner's relationship ``end``), else
    ``None``; legal holds are the caller's to check."""
    rule = rules.get(document.retention_class)
    if rule is None:
        return None
    start = end if rule.counted_from == RELATIONSHIP_END else document.uploaded_at.date()
    if start is None:
        return None
    purge_from = rule.keep_until(start)
    return Verdict(rule, start, purge_from) if purge_from <= day else None


def _delete_unreferenced(session: Session, store: DocumentStore, digests: set[str], *, actor: str,
                         cause: str) -> list[str]:
    deleted = []
    for digest in sorted(digests):
        if session.scalar(select(func.count()).select_from(Document).where(Document.sha256 == digest)):
            continue
        store.delete(digest)
        audit.record(session, actor=actor, action="retention.purge_file", entity_type="document_file",
                     entity_id=digest, comment=cause)
        deleted.append(digest)
    return deleted


def purge_in_pages(session: Session, store: DocumentStore, *, day: date, now: datetime, actor: str = SYSTEM,
                   page_size: int = 500, dry_run: bool = False) -> Iterator[PurgePage]:
    """Purge the documents expired on ``day``, a page at a time; yield each page's :class:`PurgePage` after
    its records are deleted and audited. The caller commits after each page and once after the last: the
    page's files are deleted (and audited) when the generator resumes, after the records' commit, so no
    committed record ever loses its bytes.

    Raises:
        InvalidArgumentError: no retention rules in force on ``day`` (``as_of``).
    """
    rules = rules_in_force(day)
    owners = _Owners(session)
    after = 0
    while True:
        documents = list(session.scalars(select(Document).where(Document.id > after).order_by(Document.id)
                                         .limit(page_size)))
        if not documents:
            return
        after = documents[-1].id
        page, digests = PurgePage(examined=len(documents)), set()
        for document in documents:
            owner = document.subject
            found = verdict(document, rules, owners.end(owner), day)
            if found is None:
                continue
            if owner in owners.held:
                page.held += 1
                continue
            page.purged.append(document.id)
            if dry_run:
                continue
            digests.add(document.sha256)
            audit.record(session, actor=actor, action="retention.purge", entity_type="document",
                         entity_id=document.id, at=now, comment=found.reason(),
                         before={"subject": str(owner), "kind": document.kind, "sha256": document.sha256,
                                 "retention_class": document.retention_class,
                                 "uploaded_at": document.uploaded_at.isoformat(),
                                 "counted_from": found.counted_from.isoformat(),
                                 "purge_from": found.purge_from.isoformat()})
            session.delete(document)
        session.flush()
        yield page
        if digests:
            page.files_deleted = _delete_unreferenced(session, store, digests, actor=actor,
                                                      cause="its documents were purged by retention")


def sweep_orphans(session: Session, store: DocumentStore, *, now: datetime, actor: str = SYSTEM,
                  grace: timedelta = ORPHAN_GRACE, dry_run: bool = False) -> list[str]:
    """Delete stored files older than ``grace`` that no document refers to (the caller commits the audit
    events); the digests deleted (or, with ``dry_run``, that would be)."""
    candidates = {digest for digest, written in store.stored() if written <= now - grace}
    if dry_run:
        return sorted(digest for digest in candidates if not session.scalar(
            select(func.count()).select_from(Document).where(Document.sha256 == digest)))
    return _delete_unreferenced(session, store, candidates, actor=actor, cause="no document record refers to it")
