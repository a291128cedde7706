"""The OpenAPI 3.1 documents generated from the published products, and Swagger UI."""

from __future__ import annotations

from flask import Flask
from openapi_spec_validator import validate

from core.products.versions import pause, published_version, resume
from loanfactory.database import get_db
from tests.api.conftest import Channel, publish_sample, sample

APPLY = "/products/CONSUMER_INSTALLMENT/applications"
QUOTE = "/products/CONSUMER_INSTALLMENT/quotes"


def document(app: Flask, path: str = "/api/v1/openapi.json") -> dict:
    response = app.test_client().get(path)
    assert response.status_code == 200
    return response.get_json()


def request_schema(doc: dict, path: str) -> dict:
    ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_document_is_valid_openapi_3_1_with_every_sample_published(api_app: Flask) -> None:
    for name in ("consumer_installment", "home_improvement", "short_term_bridge", "sme_business"):
        publish_sample(api_app, name)
    doc = document(api_app)
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    for code in ("CONSUMER_INSTALLMENT", "HOME_IMPROVEMENT", "SHORT_TERM_BRIDGE", "SME_BUSINESS"):
        assert f"/products/{code}/applications" in doc["paths"]


def test_each_product_carries_its_own_limits(api_app: Flask, consumer: int) -> None:
    doc = document(api_app)
    schema = request_schema(doc, APPLY)
    number = schema["properties"]["amount"]["anyOf"][0]
    assert number == {"type": "number", "minimum": 1000, "maximum": 50000, "multipleOf": 100}
    assert schema["properties"]["term"]["enum"] == [3, 6, 9, 12, 18, 24]
    assert schema["properties"]["method"]["enum"] == ["equal_installment"]
    applicant = schema["properties"]["applicant"]
    assert applicant["required"] == ["name", "id_number", "phone", "monthly_income", "bank_account",
                                     "monthly_debt_payments"]
    assert "collateral" not in schema["properties"]
    assert request_schema(doc, QUOTE)["required"] == ["amount", "term", "method"]


def test_collateral_is_required_where_the_product_requires_it(api_app: Flask) -> None:
    publish_sample(api_app, "sme_business")
    doc = document(api_app, "/api/v1/products/SME_BUSINESS/openapi.json")
    validate(doc)
    schema = request_schema(doc, "/products/SME_BUSINESS/applications")
    assert "collateral" in schema["required"]
    assert schema["properties"]["collateral"]["properties"]["type"]["enum"] == ["property", "vehicle"]
    assert schema["properties"]["method"]["enum"] == ["interest_only"]
    assert not any(p.startswith("/products/CONSUMER") for p in doc["paths"])


def test_publishing_and_pausing_change_the_document_and_the_accepted_requests_at_once(
        api_app: Flask, channel: Channel) -> None:
    assert APPLY not in document(api_app)["paths"]
    publish_sample(api_app, "consumer_installment")
    assert APPLY in document(api_app)["paths"]
    quote = {"amount": "2000", "term": 6, "method": "equal_installment"}
    assert channel.post("/api/v1" + QUOTE, quote).status_code == 200
    with api_app.app_context():
        session = get_db(api_app).session()
        version = published_version(session, "CONSUMER_INSTALLMENT")
        pause(session, version, actor="risk", reason="pricing review")
        session.commit()
    assert APPLY not in document(api_app)["paths"]
    assert channel.post("/api/v1" + QUOTE, quote).status_code == 404
    assert api_app.test_client().get("/api/v1/products/CONSUMER_INSTALLMENT/openapi.json").status_code == 404
    with api_app.app_context():
        session = get_db(api_app).session()
        from core.products.versions import get_version

        resume(session, get_version(session, "CONSUMER_INSTALLMENT"), actor="risk")
        session.commit()
    assert APPLY in document(api_app)["paths"]
    assert channel.post("/api/v1" + QUOTE, quote).status_code == 200


def test_a_new_version_replaces_the_limits_in_the_document(api_app: Flask, consumer: int) -> None:
    richer = sample("consumer_installment")
    richer["amount"] = {**richer["amount"], "max": "80000.00"}
    publish_sample(api_app, "consumer_installment", richer)
    schema = request_schema(document(api_app), APPLY)
    assert schema["properties"]["amount"]["anyOf"][0]["maximum"] == 80000


def test_swagger_ui_is_served_from_vendored_files(api_app: Flask) -> None:
    client = api_app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs/static/swagger-ui.css").status_code == 200
