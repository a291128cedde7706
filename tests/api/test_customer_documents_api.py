"""Uploading documents through the API, and a product that requires documents before approval; on SQLite and
PostgreSQL."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.applications.models import Application
from core.documents.files import Document
from core.errors import WrongStateError
from core.origination.approval import ApprovalTask
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version
from loanfactory.database import get_db
from tests.api.conftest import APPLY, GOOD_ID, Channel, application_body, new_key, publish_sample, sample
from tests.customers.test_documents import PDF, WINDOWS_EXE, png

PERSON = {"name": "张三", "id_number": GOOD_ID, "phone": "13812345678"}


def upload(channel: Channel, path: str, data: bytes, kind: str, filename: str = "scan.png", **fields: str):
    return channel.post(path, data={"kind": kind, "file": (io.BytesIO(data), filename), **fields},
                        content_type="multipart/form-data")


def stored_files(app) -> list:
    root = app.config.get("DOCUMENTS_DIR")
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def documents_app(db_app, tmp_path):
    db_app.config["DOCUMENTS_DIR"] = tmp_path / "documents"
    db_app.config["DOCUMENTS_MAX_BYTES"] = 64 * 1024
    return db_app


def test_a_channel_uploads_and_lists_a_customers_documents(documents_app, db_channel):
    customer = db_channel.post("/api/v1/customers", PERSON).get_json()
    path = f"/api/v1/customers/{customer['id']}/documents"
    sent = upload(db_channel, path, png(), "id_card_front")
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert (body["kind"], body["media_type"], body["retention_class"]) == ("id_card_front", "image/png",
                                                                           "customer_identification")
    again = upload(db_channel, path, png(), "id_card_front")
    assert again.status_code == 201 and again.get_json()["sha256"] == body["sha256"]
    assert len(stored_files(documents_app)) == 1, "the same content is kept once"
    listed = db_channel.get(path).get_json()["items"]
    assert [d["id"] for d in listed] == [again.get_json()["id"], body["id"]]


@pytest.mark.parametrize(("data", "kind", "status", "pointer"), [
    (WINDOWS_EXE, "id_card_front", 422, "/file"),
    (PDF, "id_card_front", 422, "/file"),
    (png(), "selfie", 422, "/kind"),
    (PDF + b"0" * (200 * 1024), "bank_statement", 413, None),
    (PDF + b"0" * (65 * 1024), "bank_statement", 422, "/file"),
])
def test_a_bad_upload_is_refused_and_nothing_is_stored(documents_app, db_channel, data, kind, status, pointer):
    customer = db_channel.post("/api/v1/customers", PERSON).get_json()
    refused = upload(db_channel, f"/api/v1/customers/{customer['id']}/documents", data, kind, "photo.jpg")
    assert refused.status_code == status, refused.get_data(as_text=True)[:300]
    if pointer:
        assert [e.get("pointer") for e in refused.get_json()["errors"]] == [pointer]
    with documents_app.app_context():
        assert get_db(documents_app).session().scalar(select(func.count()).select_from(Document)) == 0
    assert stored_files(documents_app) == []


def test_another_channels_customer_takes_no_document(documents_app, db_channel):
    customer = db_channel.post("/api/v1/customers", PERSON).get_json()
    stranger = Channel(documents_app.test_client(), new_key(documents_app, "other-app"))
    refused = upload(stranger, f"/api/v1/customers/{customer['id']}/documents", png(), "id_card_front")
    assert refused.status_code == 404
    assert stranger.get(f"/api/v1/customers/{customer['id']}/documents").status_code == 404
    assert stored_files(documents_app) == []


def test_a_product_requiring_documents_waits_for_them_before_approval(documents_app, db_channel):
    document = sample("consumer_installment")
    document["documents"] = {"before_approval": ["id_card_front"]}
    publish_sample(documents_app, "consumer_installment", document)
    applied = db_channel.post(APPLY, application_body()).get_json()
    assert applied["state"] == "under_review" and applied["decision"]["missing_documents"] == ["id_card_front"]
    with documents_app.app_context():
        session = get_db(documents_app).session()
        application = session.get(Application, applied["id"])
        customer_id = application.customer_id
        task = session.scalar(select(ApprovalTask).where(ApprovalTask.application_id == applied["id"]))
        offer = offer_of_version(session, application.product_version_id)
        with pytest.raises(WrongStateError) as refused:
            decide_task(session, task, offer, actor="risk_officer", approve_it=True)
        assert refused.value.field == "documents"
        session.rollback()
    sent = upload(db_channel, f"/api/v1/customers/{customer_id}/documents", png(), "id_card_front",
                  application_id=str(applied["id"]))
    assert sent.status_code == 201, sent.get_json()
    with documents_app.app_context():
        session = get_db(documents_app).session()
        task = session.scalar(select(ApprovalTask).where(ApprovalTask.application_id == applied["id"]))
        application = session.get(Application, applied["id"])
        decided = decide_task(session, task, offer_of_version(session, application.product_version_id),
                              actor="risk_officer", approve_it=True)
        session.commit()
        assert decided.state == "approved"


def test_a_document_for_another_customers_application_is_refused(documents_app, db_channel):
    publish_sample(documents_app, "consumer_installment")
    applied = db_channel.post(APPLY, application_body()).get_json()
    other = db_channel.post("/api/v1/customers", {**PERSON, "id_number": "110101198505050059"})
    assert other.status_code == 201, other.get_json()
    refused = upload(db_channel, f"/api/v1/customers/{other.get_json()['id']}/documents", PDF, "bank_statement",
                     application_id=str(applied["id"]))
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == "/application_id"
    assert stored_files(documents_app) == []
