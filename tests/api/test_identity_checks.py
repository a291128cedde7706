"""Identity verification (实名认证) in the application pipeline with the sandbox provider: each required check
asked and its answer kept as evidence, a mismatch refused or sent to a person, an unverifiable answer or a
provider fault sent to a person; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.applications.models import Application
from core.origination.approval import ApprovalTask
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version
from core.plugins.manager import PluginCall
from core.products.validate import check_product
from loanfactory.database import get_db
from tests.api.conftest import APPLY, Channel, application_body, make_api_app, new_key, publish_sample, sample
from tests.api.test_customer_documents_api import PERSON, upload
from tests.customers.test_documents import JPEG, png


def product(checks: list[str], on_mismatch: str = "reject") -> dict:
    document = sample("consumer_installment")
    document["identity_checks"] = {"required": checks, "on_mismatch": on_mismatch}
    document["plugins"]["identity"] = "sandbox_identity"
    return document


@pytest.fixture
def identity_app(db_app, tmp_path):
    db_app.config["DOCUMENTS_DIR"] = tmp_path / "documents"
    return db_app


def evidence(applied: dict) -> list[tuple[str, str]]:
    return [(entry["check"], entry["outcome"]) for entry in applied["decision"]["identity"]]


def test_every_required_check_is_asked_and_kept_as_evidence(identity_app, db_channel):
    publish_sample(identity_app, "consumer_installment", product(["three_element", "bank_card"]))
    applied = db_channel.post(APPLY, application_body()).get_json()
    assert applied["state"] == "approved", applied["decision"]
    assert evidence(applied) == [("three_element", "match"), ("bank_card", "match")]
    assert all(entry["provider"] == "sandbox_identity" and entry["reference"].startswith("SID-")
               for entry in applied["decision"]["identity"])
    with identity_app.app_context():
        calls = get_db(identity_app).session().scalars(select(PluginCall.hook).where(
            PluginCall.plugin == "sandbox_identity").order_by(PluginCall.id)).all()
    assert calls == ["identity_three_element", "identity_bank_card"]


def test_a_mismatch_refuses_before_the_bureau_is_asked(identity_app, db_channel):
    publish_sample(identity_app, "consumer_installment", product(["three_element", "bank_card"]))
    applied = db_channel.post(APPLY, application_body(phone="13812340000")).get_json()
    assert applied["state"] == "rejected"
    assert applied["decision"]["reasons"] == ["IDENTITY_THREE_ELEMENT_MISMATCH"]
    assert evidence(applied) == [("three_element", "mismatch"), ("bank_card", "match")]
    assert "bureau" not in applied["decision"], "no bureau query for someone who is not who they say"


def test_a_mismatch_goes_to_a_person_when_the_product_says_so(identity_app, db_channel):
    publish_sample(identity_app, "consumer_installment", product(["bank_card"], on_mismatch="review"))
    body = application_body()
    body["applicant"]["bank_account"]["account_number"] = "6222020200110000"
    applied = db_channel.post(APPLY, body).get_json()
    assert applied["state"] == "under_review", applied["decision"]
    assert applied["decision"]["identity_review"] == ["IDENTITY_BANK_CARD_MISMATCH"]
    with identity_app.app_context():
        session = get_db(identity_app).session()
        task = session.scalar(select(ApprovalTask).where(ApprovalTask.application_id == applied["id"]))
        application = session.get(Application, applied["id"])
        decided = decide_task(session, task, offer_of_version(session, application.product_version_id),
                              actor="risk_officer", approve_it=True, note="card checked at the counter")
        session.commit()
        assert decided.state == "approved"


@pytest.mark.parametrize(("phone", "outcome"), [("13812349999", "timeout"), ("13812349998", "error")])
def test_a_provider_fault_sends_the_application_to_a_person(identity_app, db_channel, phone, outcome):
    publish_sample(identity_app, "consumer_installment", product(["three_element"]))
    applied = db_channel.post(APPLY, application_body(phone=phone)).get_json()
    assert applied["state"] == "under_review"
    assert [e["stage"] for e in applied["decision"]["errors"]] == ["identity.three_element"]
    assert evidence(applied) == [("three_element", "failed")]


def test_liveness_needs_the_id_photo_and_a_live_capture(identity_app, db_channel):
    publish_sample(identity_app, "consumer_installment", product(["liveness"]))
    applied = db_channel.post(APPLY, application_body()).get_json()
    assert applied["state"] == "under_review"
    assert applied["decision"]["identity_review"] == ["IDENTITY_LIVENESS_UNVERIFIABLE"]
    assert applied["decision"]["identity"][0]["reason"] == "no id_card_front"


@pytest.mark.parametrize(("threshold", "state", "outcome"), [("0.50", "approved", "match"),
                                                             ("1.00", "rejected", "mismatch")])
def test_the_face_match_is_scored_against_the_threshold(db_url, tmp_path, threshold, state, outcome):
    identity_app = make_api_app(db_url, DOCUMENTS_DIR=tmp_path / "documents",
                                PLUGIN_CONFIG={"sandbox_identity": {"face_threshold": threshold}})
    db_channel = Channel(identity_app.test_client(), new_key(identity_app))
    publish_sample(identity_app, "consumer_installment", product(["liveness"]))
    customer = db_channel.post("/api/v1/customers", PERSON).get_json()
    for data, kind in ((png(), "id_card_front"), (JPEG, "face_photo")):
        assert upload(db_channel, f"/api/v1/customers/{customer['id']}/documents", data, kind).status_code == 201
    applied = db_channel.post(APPLY, application_body()).get_json()
    assert applied["state"] == state, applied["decision"]
    [entry] = applied["decision"]["identity"]
    assert entry["outcome"] == outcome and "0.50" <= entry["score"] < "1.00"
    if state == "rejected":
        assert applied["decision"]["reasons"] == ["IDENTITY_LIVENESS_MISMATCH"]
    get_db(identity_app).engine.dispose()


def test_a_product_requiring_checks_must_name_the_provider():
    document = product(["three_element"])
    del document["plugins"]["identity"]
    problems = check_product(document, prove=False).problems
    assert [(p.pointer, p.code) for p in problems] == [("/plugins/identity", "plugin.required")]
    assert check_product(product(["three_element"]), prove=False).ok
