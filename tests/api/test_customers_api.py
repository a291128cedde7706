"""The customer endpoints and the enterprise path of an application, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from core.applications.models import Application
from core.customers.enterprises import Enterprise
from core.customers.parties import Customer
from loanfactory.database import get_db
from tests.api.conftest import (
    GOOD_ID,
    Channel,
    application_body,
    id_number,
    make_api_app,
    new_key,
    publish_sample,
)

CODE = "9144030071526726XG"
OTHER_CODE = "91110000600037341L"


def person(**changes: Any) -> dict[str, Any]:
    return {"name": "张三", "id_number": GOOD_ID, "phone": "13812345678", "monthly_income": "20000.00",
            "address": "上海市浦东新区世纪大道 100 号",
            "emergency_contacts": [{"name": "李四", "phone": "13912345678"}], **changes}


def representative(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in person(**changes).items() if k != "emergency_contacts"}


def enterprise(code: str = CODE, **changes: Any) -> dict[str, Any]:
    return {"name": "深圳市示例科技有限公司", "credit_code": code, "registered_capital": "1000000.00",
            "industry_code": "I6513", "registered_address": "深圳市南山区科技园 1 号",
            "bank_account": {"bank_code": "CMB", "account_number": "755912345678901",
                             "holder_name": "深圳市示例科技有限公司"}, **changes}


def rows(app, model) -> int:
    with app.app_context():
        return get_db(app).session().scalar(select(func.count()).select_from(model))


def pointers(response) -> list[str]:
    return [error.get("pointer") for error in response.get_json()["errors"]]


def test_a_channel_onboards_an_individual_and_reads_them_back_masked(db_app, db_channel):
    created = db_channel.post("/api/v1/customers", person())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["name"] == "张*" and body["id_number"] == GOOD_ID[:3] + "*" * 11 + GOOD_ID[-4:]
    assert body["phone"] == "138****5678" and body["monthly_income"] == "20000.00" and body["has_address"]
    assert body["relations"] == [{"kind": "emergency_contact", "customer_id": None,
                                  "contact": {"name": "李*", "phone": "139****5678"}}]
    again = db_channel.post("/api/v1/customers", person(phone="13712345678"))
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert again.get_json()["phone"] == "137****5678" and len(again.get_json()["relations"]) == 1
    read = db_channel.get(created.headers["Location"])
    assert read.status_code == 200 and read.get_json()["id"] == body["id"]


def test_another_channels_customer_is_not_found(db_app, db_channel):
    created = db_channel.post("/api/v1/customers", person()).get_json()
    stranger = Channel(db_app.test_client(), new_key(db_app, "other-app"))
    assert stranger.get(f"/api/v1/customers/{created['id']}").status_code == 404
    assert stranger.get("/api/v1/customers/999999").status_code == 404
    refused = stranger.post(f"/api/v1/customers/{created['id']}/relations",
                            {"kind": "emergency_contact", "contact": {"name": "王五", "phone": "13700001111"}})
    assert refused.status_code == 404
    own = stranger.post("/api/v1/customers", person(id_number=id_number("19850505", 9), name="王五")).get_json()
    borrowed = stranger.post(f"/api/v1/customers/{own['id']}/relations",
                             {"kind": "spouse", "related_customer_id": created["id"]})
    assert borrowed.status_code == 404
    assert len(db_channel.get(f"/api/v1/customers/{created['id']}").get_json()["relations"]) == 1


def test_a_known_id_number_under_another_name_is_refused_and_nothing_changes(db_app, db_channel):
    db_channel.post("/api/v1/customers", person())
    refused = db_channel.post("/api/v1/customers", person(name="李四", phone="13712345678"))
    assert refused.status_code == 422 and pointers(refused) == ["/name"]
    with db_app.app_context():
        assert get_db(db_app).session().scalar(select(Customer)).phone == "13812345678"


def test_a_channel_onboards_an_enterprise_with_its_legal_representative(db_app, db_channel):
    created = db_channel.post("/api/v1/enterprises", enterprise(legal_representative=representative()))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["credit_code"] == CODE and body["industry_code"] == "I6513"
    assert body["bank_account"] == {"bank_code": "CMB", "account_number": "755********8901"}
    assert body["relations"] == [{"kind": "legal_representative", "customer_id": body["legal_representative_id"],
                                  "contact": None}]
    assert db_channel.get(body["links"]["legal_representative"]).status_code == 200
    guarantor = db_channel.post("/api/v1/customers", person(id_number=id_number("19850505", 9), name="王五"))
    added = db_channel.post(f"/api/v1/enterprises/{body['id']}/relations",
                            {"kind": "guarantor", "related_customer_id": guarantor.get_json()["id"]})
    assert added.status_code == 201 and [r["kind"] for r in added.get_json()["relations"]] == [
        "legal_representative", "guarantor"]
    spouse = db_channel.post(f"/api/v1/enterprises/{body['id']}/relations",
                             {"kind": "spouse", "related_customer_id": guarantor.get_json()["id"]})
    assert spouse.status_code == 422 and pointers(spouse) == ["/kind"]


@pytest.mark.parametrize(("changes", "pointer"), [
    ({"credit_code": "91440300715267260G"}, "/credit_code"),
    ({"credit_code": CODE[:-1] + "H"}, "/credit_code"),
    ({"industry_code": "Z99"}, "/industry_code"),
    ({"bank_account": {"bank_code": "CMB", "account_number": "755912345678901", "holder_name": "张三"}},
     "/bank_account/holder_name"),
    ({"legal_representative": representative(id_number="110101199001010050")}, "/legal_representative/id_number"),
    ({"legal_representative": None}, "/legal_representative"),
])
def test_a_bad_enterprise_is_refused_by_pointer_and_nothing_is_stored(db_app, db_channel, changes, pointer):
    body = {**enterprise(legal_representative=representative()), **changes}
    refused = db_channel.post("/api/v1/enterprises", body)
    assert refused.status_code == 422 and pointer in pointers(refused), refused.get_json()
    assert rows(db_app, Enterprise) == 0 and rows(db_app, Customer) == 0


def sme_body(**changes: Any) -> dict[str, Any]:
    body = application_body("200000.00", 12)
    body.update({"method": "interest_only", "purpose": "business",
                 "collateral": {"type": "property", "appraised_value": "400000.00"}, "enterprise": enterprise(),
                 **changes})
    return body


def test_the_sme_product_takes_an_enterprise_with_its_legal_representative(db_app, db_channel):
    publish_sample(db_app, "sme_business")
    applied = db_channel.post("/api/v1/products/SME_BUSINESS/applications", sme_body())
    assert applied.status_code == 201, applied.get_json()
    with db_app.app_context():
        session = get_db(db_app).session()
        application = session.get(Application, applied.get_json()["id"])
        business = session.get(Enterprise, application.enterprise_id)
        assert business.credit_code == CODE and business.legal_representative_id == application.customer_id
        assert application.decision["context"]["customer_type"] == "enterprise"
    assert db_channel.get(f"/api/v1/enterprises/{business.id}").status_code == 200
    stranger = Channel(db_app.test_client(), new_key(db_app, "other-app"))
    assert stranger.get(f"/api/v1/enterprises/{business.id}").status_code == 404


def test_an_enterprise_product_without_the_enterprise_and_a_consumer_product_with_one_are_refused(db_app, db_channel):
    publish_sample(db_app, "sme_business")
    publish_sample(db_app, "consumer_installment")
    missing = db_channel.post("/api/v1/products/SME_BUSINESS/applications", {
        k: v for k, v in sme_body().items() if k != "enterprise"})
    assert missing.status_code == 422 and "/enterprise" in pointers(missing)
    extra = db_channel.post("/api/v1/products/CONSUMER_INSTALLMENT/applications",
                            {**application_body(), "enterprise": enterprise()})
    assert extra.status_code == 422 and pointers(extra) == ["/enterprise"]
    forged = db_channel.post("/api/v1/products/SME_BUSINESS/applications",
                             sme_body(enterprise=enterprise(code=CODE[:-1] + "H")))
    assert forged.status_code == 422 and pointers(forged) == ["/enterprise/credit_code"]
    assert rows(db_app, Application) == 0 and rows(db_app, Enterprise) == 0


def test_an_application_naming_a_known_enterprise_with_another_representative_is_refused(db_app, db_channel):
    publish_sample(db_app, "sme_business")
    db_channel.post("/api/v1/enterprises", enterprise(legal_representative=representative(
        id_number=id_number("19850505", 9), name="王五")))
    refused = db_channel.post("/api/v1/products/SME_BUSINESS/applications", sme_body())
    assert refused.status_code == 422 and pointers(refused) == ["/enterprise/legal_representative"]
    assert rows(db_app, Application) == 0


def test_the_openapi_document_carries_the_customer_endpoints_and_the_enterprise_part(api_app, channel):
    publish_sample(api_app, "sme_business")
    publish_sample(api_app, "consumer_installment")
    document = channel.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert {"/customers", "/customers/{customer_id}", "/enterprises", "/enterprises/{enterprise_id}",
            "/customers/{customer_id}/relations", "/enterprises/{enterprise_id}/relations",
            "/customers/{customer_id}/documents", "/enterprises/{enterprise_id}/documents"} <= set(document["paths"])
    generic = document["components"]["schemas"]["ApplicationRequest"]
    assert "enterprise" in generic["properties"] and "enterprise" not in generic["required"]

    def request_of(code: str) -> dict:
        return channel.get(f"/api/v1/products/{code}/openapi.json").get_json()["components"]["schemas"][
            "ApplicationRequest"]

    assert "enterprise" in request_of("SME_BUSINESS")["required"]
    assert "enterprise" not in request_of("CONSUMER_INSTALLMENT")["properties"]


def test_schemathesis_over_the_customer_endpoints(tmp_path):
    """More generated requests for the customer operations than the whole document's run gives each one."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from tests.api.test_schemathesis import CHECKS

    app = make_api_app(f"sqlite:///{tmp_path}/fuzz.sqlite3", API_RATE_LIMIT_ENABLED=False)
    headers = {"X-API-Key": new_key(app)}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [operation for operation in operations if "customers" in (operation.definition.raw.get("tags") or [])]
    assert len(mine) == 10
    for operation in mine:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
    get_db(app).engine.dispose()
