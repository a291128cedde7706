"""Retention (档案): dated rules, legal holds, and the purge of expired documents and orphan files, with its
audit trail; on SQLite and PostgreSQL. Expected days are computed here from the rule's words (N years after the
relationship ended), not read from the code."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.customers.parties import INDIVIDUAL, PartyRef
from core.db.base import Base, make_engine, make_session_factory
from core.documents.files import Document, add_document
from core.documents.storage import DirectoryStore
from core.errors import InvalidArgumentError
from core.loans.contract import Contract
from core.loans.models import Loan
from core.retention.holds import LegalHold, open_holds, place_hold, release_hold
from core.retention.purge import purge_in_pages, sweep_orphans
from core.retention.rules import rules_in_force
from core.schedule import LoanTerms
from loanfactory.cli import main
from loanfactory.tasks.retention import purge_expired
from tests.customers.test_documents import JPEG, PDF, customer, png

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def years_after(day: date, years: int) -> date:
    return date(day.year + years, day.month, day.day)


def test_the_rules_in_force_are_dated_configuration():
    rules = rules_in_force(date(2026, 6, 1))
    assert {name: (rule.years, rule.counted_from) for name, rule in rules.items()} == {
        "customer_identification": (10, "relationship_end"), "transaction": (10, "relationship_end"),
        "accounting": (30, "record_date")}
    assert rules["transaction"].version == "retention@2025-01-01"
    assert rules["accounting"].keep_until(date(2024, 2, 29)) == date(2054, 3, 1)
    with pytest.raises(InvalidArgumentError) as refused:
        rules_in_force(date(2024, 12, 31))
    assert refused.value.field == "as_of"


def closed_relationship(session, birth: str, decided: date) -> PartyRef:
    """A customer whose only application was rejected on ``decided``."""
    person = customer(session, birth)
    session.add(Application(customer_id=person.id, channel="app", product_code="P", product_version_id=1,
                            amount=Decimal("1000"), term=6, method="equal_installment", state="rejected",
                            created_at=datetime.combine(decided, datetime.min.time(), UTC),
                            decided_at=datetime.combine(decided, datetime.min.time(), UTC)))
    session.flush()
    return PartyRef(INDIVIDUAL, person.id)


def document(session, store, owner: PartyRef, kind: str, data: bytes, uploaded: date) -> Document:
    return add_document(session, store, owner, kind, data, actor="channel:app",
                        now=datetime.combine(uploaded, datetime.min.time(), UTC))


@pytest.fixture
def book(db_session, tmp_path):
    """Four customers: one expired, one expired but held, one inside retention, one with a live loan."""
    store = DirectoryStore(tmp_path / "documents")
    expired_on = date(2016, 3, 1)
    expired = closed_relationship(db_session, "19800101", expired_on)
    held = closed_relationship(db_session, "19810101", expired_on)
    recent = closed_relationship(db_session, "19820101", date(2020, 1, 1))
    borrower = customer(db_session, "19830101")
    db_session.add(Loan(customer_id=borrower.id, product_code="P", product_version_id=1,
                        contract=Contract(LoanTerms(Decimal("1000"), Decimal("0.12"), 6, date(2010, 1, 10))),
                        disbursed_on=date(2010, 1, 10), maturity_date=date(2010, 7, 10), state="overdue"))
    live = PartyRef(INDIVIDUAL, borrower.id)
    docs = {
        "expired_id": document(db_session, store, expired, "id_card_front", png(3, 1), date(2016, 2, 1)),
        "expired_shared": document(db_session, store, expired, "bank_statement", PDF, date(2016, 2, 1)),
        "held": document(db_session, store, held, "id_card_front", JPEG, date(2016, 2, 1)),
        "recent_shared": document(db_session, store, recent, "bank_statement", PDF, date(2019, 12, 1)),
        "live": document(db_session, store, live, "id_card_front", png(4, 1), date(2010, 1, 1)),
    }
    hold = place_hold(db_session, held, reason="（2026）京0105民初1号 保全", actor="legal", now=NOW)
    db_session.commit()
    return {"store": store, "docs": {name: d.id for name, d in docs.items()}, "hold": hold.id,
            "purge_from": years_after(expired_on, 10), "digests": {name: d.sha256 for name, d in docs.items()}}


def run(session, store, day: date):
    pages = []
    for page in purge_in_pages(session, store, day=day, now=NOW, actor="cli:test", page_size=2):
        session.commit()
        pages.append(page)
    session.commit()
    return pages


def remaining(session) -> set[int]:
    return set(session.scalars(select(Document.id)))


def test_only_expired_records_outside_any_hold_are_purged_with_an_audit_record(db_session, book):
    store, docs, digests = book["store"], book["docs"], book["digests"]
    everything = set(docs.values())
    run(db_session, store, book["purge_from"] - timedelta(days=1))
    assert remaining(db_session) == everything, "nothing is purged a day before retention runs out"

    pages = run(db_session, store, book["purge_from"])
    assert sum(page.examined for page in pages) == 5 and len(pages) == 3
    assert sorted(i for page in pages for i in page.purged) == sorted([docs["expired_id"], docs["expired_shared"]])
    assert sum(page.held for page in pages) == 1
    assert remaining(db_session) == everything - {docs["expired_id"], docs["expired_shared"]}
    assert not store.exists(digests["expired_id"]), "the purged document's bytes are gone"
    assert store.exists(digests["recent_shared"]), "bytes another record still refers to stay"
    assert store.exists(digests["held"]) and store.exists(digests["live"])

    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")
                                .order_by(AuditEvent.entity_id)).all()
    assert [int(e.entity_id) for e in events] == sorted([docs["expired_id"], docs["expired_shared"]])
    first = events[0]
    assert first.before["kind"] == "id_card_front" and first.before["counted_from"] == "2016-03-01"
    assert first.before["purge_from"] == book["purge_from"].isoformat()
    assert "customer_identification: kept 10 years after the relationship ended" in first.comment
    assert "retention@2025-01-01" in first.comment
    files = db_session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "retention.purge_file"))
    assert list(files) == [digests["expired_id"]]

    run(db_session, store, book["purge_from"])
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "retention.purge")) == 2, "a second run finds nothing"


def test_a_legal_hold_keeps_everything_until_it_is_released(db_session, book):
    store, docs = book["store"], book["docs"]
    far = date(2060, 1, 1)
    run(db_session, store, far)
    assert docs["held"] in remaining(db_session) and docs["live"] in remaining(db_session)
    with pytest.raises(InvalidArgumentError) as no_reason:
        release_hold(db_session, book["hold"], reason=" ", actor="legal", now=NOW)
    assert no_reason.value.field == "reason"
    release_hold(db_session, book["hold"], reason="判决生效，解除保全", actor="legal", now=NOW)
    db_session.commit()
    with pytest.raises(InvalidArgumentError, match="released already"):
        release_hold(db_session, book["hold"], reason="again", actor="legal", now=NOW)
    assert open_holds(db_session) == []
    run(db_session, store, far)
    assert docs["held"] not in remaining(db_session)
    assert docs["live"] in remaining(db_session), "a live loan keeps the relationship open"
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "legal_hold")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["retention.hold", "retention.release"]


def test_a_hold_needs_a_reason_and_an_existing_party(db_session):
    person = closed_relationship(db_session, "19900101", date(2014, 1, 1))
    with pytest.raises(InvalidArgumentError) as refused:
        place_hold(db_session, person, reason="", actor="legal", now=NOW)
    assert refused.value.field == "reason"
    with pytest.raises(InvalidArgumentError) as unknown:
        place_hold(db_session, PartyRef(INDIVIDUAL, 99_999), reason="case", actor="legal", now=NOW)
    assert unknown.value.field == "customer"
    assert db_session.scalar(select(func.count()).select_from(LegalHold)) == 0


def test_orphan_files_older_than_the_grace_period_are_swept(db_session, book):
    store = book["store"]
    old, fresh = b"%PDF-1.4 orphan old", b"%PDF-1.4 orphan fresh"
    for data in (old, fresh):
        store.put(hashlib.sha256(data).hexdigest(), data)
    stale = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    old_digest = hashlib.sha256(old).hexdigest()
    os.utime(store.root / old_digest[:2] / old_digest[2:4] / old_digest, (stale, stale))
    for digest in book["digests"].values():  # documents' own files, however old, are never orphans
        os.utime(store.root / digest[:2] / digest[2:4] / digest, (stale, stale))
    assert sweep_orphans(db_session, store, now=datetime.now(UTC), dry_run=True) == [old_digest]
    assert store.exists(old_digest)
    assert sweep_orphans(db_session, store, now=datetime.now(UTC)) == [old_digest]
    db_session.commit()
    assert not store.exists(old_digest) and store.exists(hashlib.sha256(fresh).hexdigest())
    assert all(store.exists(digest) for digest in book["digests"].values())
    comment = db_session.scalar(select(AuditEvent.comment).where(AuditEvent.action == "retention.purge_file"))
    assert comment == "no document record refers to it"


def test_the_purge_command_reports_progress_and_a_dry_run_changes_nothing(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/retention.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LOANFACTORY_DOCUMENTS_DIR", str(tmp_path / "documents"))
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    store = DirectoryStore(tmp_path / "documents")
    owner = closed_relationship(session, "19800101", date(2016, 3, 1))
    kept = document(session, store, owner, "id_card_front", png(), date(2016, 2, 1)).id
    session.commit()
    runner = CliRunner()
    dry = runner.invoke(main, ["retention", "purge", "--as-of", "2026-03-01", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["purged"] == 1 and session.get(Document, kept) is not None
    session.rollback()
    hold = runner.invoke(main, ["retention", "hold", f"C{owner.id}", "--reason", "case 7", "--actor", "legal"])
    assert hold.exit_code == 0, hold.output
    held = runner.invoke(main, ["retention", "purge", "--as-of", "2026-03-01"])
    assert "purged 0 documents on 2026-03-01 (1 kept under legal hold)" in held.stdout
    assert "1 documents examined" in held.stderr
    hold_id = session.scalar(select(LegalHold.id))
    session.rollback()
    assert runner.invoke(main, ["retention", "release", str(hold_id), "--reason", "closed", "--actor",
                                "legal"]).exit_code == 0
    done = runner.invoke(main, ["retention", "purge", "--as-of", "2026-03-01", "--json"])
    assert json.loads(done.stdout) == {"as_of": "2026-03-01", "dry_run": False, "examined": 1, "purged": 1,
                                           "held": 0, "files_deleted": 1, "orphans_deleted": 0}
    session.expire_all()
    assert session.get(Document, kept) is None
    session.rollback()
    bad = runner.invoke(main, ["retention", "hold", "X1", "--reason", "r", "--actor", "a"])
    assert bad.exit_code == 2 and "customer" in bad.output
    session.close()
    engine.dispose()


def test_celery_beat_runs_the_purge_daily(tmp_path):
    from loanfactory.app import create_app
    from loanfactory.database import get_db
    from loanfactory.tasks.retention import TASK, purge_task

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/beat.sqlite3", "TESTING": True,
                      "DOCUMENTS_DIR": str(tmp_path / "documents"), "API_BUSINESS_DATE": "2026-06-10"})
    assert app.extensions["celery"].conf.beat_schedule["loanfactory-retention-purge"] == {
        "task": TASK, "schedule": 86_400.0}
    with app.app_context():
        session = make_session_factory(get_db(app).engine)()
        owner = closed_relationship(session, "19800101", date(2016, 3, 1))
        document(session, DirectoryStore(tmp_path / "documents"), owner, "bank_statement", PDF, date(2016, 2, 1))
        session.commit()
        assert purge_task.delay().get() == {"examined": 1, "purged": 1, "held": 0, "files_deleted": 1,
                                            "orphans_deleted": 0}
        assert purge_expired(session, DirectoryStore(tmp_path / "documents"), date(2026, 6, 10),
                             actor="t").purged == 0
        session.close()
    off = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/off.sqlite3", "TESTING": True,
                      "RETENTION_PURGE_SECONDS": 0})
    assert "loanfactory-retention-purge" not in off.extensions["celery"].conf.beat_schedule
    for made in (app, off):
        get_db(made).engine.dispose()
