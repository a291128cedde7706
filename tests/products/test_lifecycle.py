"""Versions and their lifecycle in the database: transitions, maker-checker, immutability, one published."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from core.products import InvalidProductError
from core.products.models import FrozenVersionError, ProductVersion
from core.products.versions import (
    PRODUCT_VERSION_STATES,
    AlreadyPublishedError,
    MakerCheckerError,
    clone,
    create_draft,
    pause,
    publish,
    published_version,
    resume,
    retire,
    return_to_draft,
    submit,
    update_draft,
)
from core.states import IllegalTransitionError
from tests.products.helpers import REGISTRY, sample


@pytest.fixture
def draft(sqlite_session):
    return create_draft(sqlite_session, sample("consumer_installment.json"), actor="maker")


def published(session, actor_maker="maker", actor_checker="checker"):
    version = create_draft(session, sample("consumer_installment.json"), actor=actor_maker)
    submit(session, version, actor=actor_maker, plugins=REGISTRY)
    publish(session, version, actor=actor_checker, plugins=REGISTRY)
    return version


def test_a_draft_is_submitted_then_published_by_a_second_person_with_its_proof(db_session):
    draft = create_draft(db_session, sample("consumer_installment.json"), actor="maker")
    assert (draft.code, draft.version, draft.status) == ("CONSUMER_INSTALLMENT", 1, "draft")
    submit(db_session, draft, actor="maker", plugins=REGISTRY)
    assert draft.status == "in_review" and draft.proof["passed"] is True
    assert draft.proof["worst"]["apr"] == "0.213059"
    publish(db_session, draft, actor="checker", plugins=REGISTRY)
    db_session.commit()
    assert (draft.status, draft.submitted_by, draft.approved_by) == ("published", "maker", "checker")
    assert published_version(db_session, "CONSUMER_INSTALLMENT").id == draft.id
    moves = [(t.from_state, t.to_state, t.actor) for t in PRODUCT_VERSION_STATES.history(db_session, draft.id)]
    assert moves == [(None, "draft", "maker"), ("draft", "in_review", "maker"), ("in_review", "published", "checker")]


def test_the_submitter_may_not_approve_even_if_someone_else_wrote_it(sqlite_session, draft):
    submit(sqlite_session, draft, actor="maker", plugins=REGISTRY)
    with pytest.raises(MakerCheckerError, match="maker submitted"):
        publish(sqlite_session, draft, actor="maker", plugins=REGISTRY)
    assert draft.status == "in_review"


def test_an_unsound_draft_cannot_be_submitted(sqlite_session):
    document = sample("consumer_installment.json")
    document["amount"]["default"] = "2000000.00"
    version = create_draft(sqlite_session, document, actor="maker")
    with pytest.raises(InvalidProductError) as caught:
        submit(sqlite_session, version, actor="maker", plugins=REGISTRY)
    assert [(p.pointer, p.code) for p in caught.value.problems] == [("/amount/default", "range.default_out_of_range")]
    assert version.status == "draft"


@pytest.mark.parametrize(("source", "target"), [
    pair for pair in itertools.product(sorted(PRODUCT_VERSION_STATES.states), repeat=2)
    if not PRODUCT_VERSION_STATES.can(*pair)
])
def test_every_illegal_transition_is_refused(source, target):
    with pytest.raises(IllegalTransitionError):
        PRODUCT_VERSION_STATES.check(source, target)


def test_the_lifecycle_table_is_the_documented_one():
    assert {s: set(t) for s, t in PRODUCT_VERSION_STATES.transitions.items()} == {
        "draft": {"in_review"}, "in_review": {"draft", "published"}, "published": {"paused", "retired"},
        "paused": {"published", "retired"}, "retired": set(),
    }


def test_publishing_a_new_version_retires_the_old_one(sqlite_session):
    first = published(sqlite_session)
    second = clone(sqlite_session, first, actor="maker")
    assert (second.version, second.status, second.based_on_id) == (2, "draft", first.id)
    submit(sqlite_session, second, actor="maker", plugins=REGISTRY)
    superseded = publish(sqlite_session, second, actor="checker", plugins=REGISTRY)
    sqlite_session.commit()
    assert superseded is first and first.status == "retired" and first.retired_at is not None
    assert published_version(sqlite_session, "CONSUMER_INSTALLMENT") is second


def test_pause_resume_and_retire(sqlite_session):
    version = published(sqlite_session)
    pause(sqlite_session, version, actor="ops", reason="channel incident")
    assert published_version(sqlite_session, "CONSUMER_INSTALLMENT") is None
    resume(sqlite_session, version, actor="ops")
    assert published_version(sqlite_session, "CONSUMER_INSTALLMENT") is version
    retire(sqlite_session, version, actor="ops", reason="end of campaign")
    with pytest.raises(IllegalTransitionError):
        resume(sqlite_session, version, actor="ops")


def test_a_returned_version_goes_back_to_its_maker_without_its_proof(sqlite_session, draft):
    submit(sqlite_session, draft, actor="maker", plugins=REGISTRY)
    return_to_draft(sqlite_session, draft, actor="checker", reason="lower the rate")
    assert (draft.status, draft.proof, draft.submitted_by) == ("draft", None, None)
    document = sample("consumer_installment.json")
    document["rate"]["annual"]["max"] = "0.1500"
    update_draft(sqlite_session, draft, document, actor="maker")
    assert draft.document["rate"]["annual"]["max"] == "0.1500"


def test_a_paused_version_cannot_resume_over_another_published_one(sqlite_session):
    first = published(sqlite_session)
    pause(sqlite_session, first, actor="ops", reason="review")
    # force a second published row past the lifecycle, as a rogue script would
    second = create_draft(sqlite_session, sample("consumer_installment.json"), actor="maker")
    sqlite_session.execute(update(ProductVersion).where(ProductVersion.id == second.id).values(
        status="published", submitted_by="rogue", approved_by="accomplice"))
    sqlite_session.expire_all()
    with pytest.raises(AlreadyPublishedError):
        resume(sqlite_session, first, actor="ops")


def test_a_published_version_cannot_be_modified_through_the_orm(db_session):
    version = published(db_session)
    db_session.commit()
    version.document = {**version.document, "overdue_grace_days": 10}
    with pytest.raises(FrozenVersionError, match="document"):
        db_session.flush()
    db_session.rollback()
    version.proof = {"passed": True}
    with pytest.raises(FrozenVersionError, match="proof"):
        db_session.flush()
    db_session.rollback()
    db_session.delete(version)
    with pytest.raises(FrozenVersionError, match="cannot be deleted"):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(FrozenVersionError):
        update_draft(db_session, version, sample("consumer_installment.json"), actor="maker")


def test_a_published_version_cannot_be_modified_with_plain_sql(db_session):
    version = published(db_session)
    db_session.commit()
    with pytest.raises(DatabaseError, match="frozen"):
        db_session.execute(text("UPDATE product_versions SET document = :d WHERE id = :i"),
                           {"d": '{"code": "X"}', "i": version.id})
    db_session.rollback()
    with pytest.raises(DatabaseError, match="frozen"):
        db_session.execute(text("DELETE FROM product_versions WHERE id = :i"), {"i": version.id})
    db_session.rollback()
    db_session.execute(text("UPDATE product_versions SET status = 'paused' WHERE id = :i"), {"i": version.id})


def test_the_database_allows_one_published_version_per_code(db_session):
    published(db_session)
    db_session.commit()
    rogue = create_draft(db_session, sample("consumer_installment.json"), actor="maker")
    db_session.commit()
    with pytest.raises(IntegrityError, match=r"uq_product_versions_one_published|UNIQUE"):
        db_session.execute(update(ProductVersion).where(ProductVersion.id == rogue.id).values(
            status="published", submitted_by="rogue", approved_by="accomplice"))


def test_the_database_refuses_a_release_approved_by_its_submitter(db_session):
    rogue = create_draft(db_session, sample("consumer_installment.json"), actor="maker")
    db_session.commit()
    with pytest.raises(IntegrityError, match="maker_checker"):
        db_session.execute(update(ProductVersion).where(ProductVersion.id == rogue.id).values(
            status="published", submitted_by="maker", approved_by="maker"))


def test_the_orm_refuses_a_status_jump_past_the_lifecycle(sqlite_session, draft):
    sqlite_session.commit()
    draft.status = "published"
    draft.submitted_by, draft.approved_by = "maker", "checker"
    with pytest.raises(FrozenVersionError, match="cannot go from draft to published"):
        sqlite_session.flush()


def test_lifecycle_functions_refuse_to_skip_a_step(sqlite_session, draft):
    with pytest.raises(IllegalTransitionError):
        publish(sqlite_session, draft, actor="checker", plugins=REGISTRY)
    with pytest.raises(IllegalTransitionError):
        pause(sqlite_session, draft, actor="ops", reason="x")
    with pytest.raises(IllegalTransitionError):
        retire(sqlite_session, draft, actor="ops", reason="x")
    submit(sqlite_session, draft, actor="maker", plugins=REGISTRY)
    with pytest.raises(IllegalTransitionError):
        submit(sqlite_session, draft, actor="maker", plugins=REGISTRY)
    with pytest.raises(FrozenVersionError):
        update_draft(sqlite_session, draft, sample("consumer_installment.json"), actor="maker")
    assert draft.status == "in_review"
