"""The OpenAPI 3.1 documents: stable generic operations, typed responses, per-product narrowing, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from openapi_spec_validator import validate

from api.problems import PROBLEM_BASE, PROBLEM_TYPES
from core.products.versions import get_version, pause, published_version, resume
from loanfactory.database import get_db
from tests.api.conftest import Channel, publish_sample, sample

APPLY = "/products/{code}/applications"
QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"
OPERATION_IDS = Path(__file__).with_name("operation_ids.txt")


def document(app: Flask, path: str = "/api/v1/openapi.json") -> dict:
    response = app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def schema(doc: dict, name: str) -> dict:
    return doc["components"]["schemas"][name]


def operation_ids(doc: dict) -> set[str]:
    return {op["operationId"] for item in doc["paths"].values() for op in item.values()}


def bare_objects(node: Any, where: str = "") -> list[str]:
    """Object schemas that declare no properties (nor a typed map), under ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and not node.get("properties") and not isinstance(
                node.get("additionalProperties"), dict) and "x-free-form" not in node:
            found.append(where)
        for key, value in node.items():
            found += bare_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += bare_objects(value, f"{where}/{index}")
    return found


def pause_consumer(app: Flask) -> None:
    with app.app_context():
        session = get_db(app).session()
        pause(session, published_version(session, "CONSUMER_INSTALLMENT"), actor="risk", reason="pricing review")
        session.commit()


def test_the_documents_are_valid_openapi_3_1_and_their_operations_never_depend_on_what_is_published(
        api_app: Flask) -> None:
    empty = document(api_app)
    for name in ("consumer_installment", "home_improvement", "short_term_bridge", "sme_business"):
        publish_sample(api_app, name)
    doc = document(api_app)
    validate(doc)
    assert doc["openapi"] == "3.1.0" and set(doc["paths"]) == set(empty["paths"])
    assert [p["code"] for p in doc["x-products"]] == ["CONSUMER_INSTALLMENT", "HOME_IMPROVEMENT",
                                                      "SHORT_TERM_BRIDGE", "SME_BUSINESS"]
    for code in ("CONSUMER_INSTALLMENT", "SME_BUSINESS"):
        product_doc = document(api_app, f"/api/v1/products/{code}/openapi.json")
        validate(product_doc)
        assert operation_ids(product_doc) == operation_ids(doc)
    assert "paymentCallback" not in operation_ids(doc), "the bank's callback is not in a channel's SDK"


def test_no_operation_id_of_yesterday_disappears() -> None:
    from api.openapi import OPERATIONS, build_document

    listed = {line.strip() for line in OPERATION_IDS.read_text().splitlines() if line and not line.startswith("#")}
    served = operation_ids(build_document([], internal=True))
    assert listed - served == set(), "operation ids a generated client calls have disappeared"
    assert served - listed == set(), f"add the new operation ids to {OPERATION_IDS.name}"
    assert len(OPERATIONS) == len(served)


def test_no_response_schema_is_a_bare_object_and_every_state_is_enumerated(api_app: Flask, consumer: int) -> None:
    doc = document(api_app)
    assert bare_objects(doc) == []
    schemas = doc["components"]["schemas"]
    assert "accepted" in schemas["Application"]["properties"]["state"]["enum"]
    assert schemas["Loan"]["properties"]["state"]["enum"] == sorted(
        ["active", "overdue", "paid_off", "prepaid_closed", "written_off"])
    assert "status" not in schemas["Disbursement"]["properties"], "one state field per resource"
    assert schemas["Application"]["properties"]["decision"] == {"anyOf": [{"$ref": "#/components/schemas/Decision"},
                                                                          {"type": "null"}]}
    money_refs = str(doc).count("'#/components/schemas/Money'")
    assert money_refs > 40 and "number" not in str(schemas["QuoteRequest"]["properties"]["amount"])


def test_each_operation_lists_the_problems_it_can_answer_with(api_app: Flask) -> None:
    doc = document(api_app)
    get_loan = doc["paths"]["/loans/{loan_id}"]["get"]["responses"]
    assert "405" not in get_loan and "415" not in get_loan and "403" not in get_loan
    assert get_loan["404"]["content"]["application/problem+json"]["schema"]["properties"]["type"]["enum"] == [
        PROBLEM_BASE + "not-found"]
    apply = doc["paths"][APPLY]["post"]["responses"]
    assert set(apply["409"]["content"]["application/problem+json"]["schema"]["properties"]["type"]["enum"]) == {
        PROBLEM_BASE + s for s in ("product-paused", "idempotency-key-reused", "idempotency-in-progress")}
    assert {"400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"} <= set(apply)
    assert set(apply["201"]["headers"]) == {"Location", "Idempotent-Replayed", "X-RateLimit-Limit",
                                            "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    assert "Retry-After" in apply["503"]["headers"] and "Retry-After" in apply["429"]["headers"]
    contract = doc["paths"]["/applications/{application_id}/contract"]["get"]
    assert "application/pdf" in contract["responses"]["200"]["content"]
    used = {t for item in doc["paths"].values() for op in item.values() for r in op["responses"].values()
            for t in r.get("content", {}).get("application/problem+json", {}).get("schema", {}).get(
                "properties", {}).get("type", {}).get("enum", [])}
    assert used <= {PROBLEM_BASE + slug for slug in PROBLEM_TYPES}


def test_the_contract_declares_security_webhooks_tags_descriptions_and_examples(api_app: Flask) -> None:
    doc = document(api_app)
    assert doc["components"]["securitySchemes"]["Bearer"] == {"type": "http", "scheme": "bearer",
                                                              "description": "The same key as a bearer token."}
    hook = doc["webhooks"]["application.accepted"]["post"]
    assert [p["name"] for p in hook["parameters"]] == ["LoanFactory-Signature", "LoanFactory-Event",
                                                       "LoanFactory-Delivery"]
    declared = {t["name"] for t in doc["tags"]}
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert {t for op in operations for t in op["tags"]} <= declared
    assert all(op["description"] for op in operations)
    example = doc["paths"][APPLY]["post"]["requestBody"]["content"]["application/json"]["example"]
    from stdnum.cn import ric

    assert ric.is_valid(example["applicant"]["id_number"])


def test_every_example_is_valid_against_its_own_schema() -> None:
    from jsonschema import Draft202012Validator, FormatChecker

    from api.openapi import build_document
    from tests.api.contract import closed

    doc = build_document([], internal=True)
    components = closed(doc["components"])
    examples = [(media["schema"], media["example"]) for item in doc["paths"].values() for op in item.values()
                for media in [*op.get("requestBody", {}).get("content", {}).values(),
                              *(m for r in op["responses"].values() for m in r.get("content", {}).values())]
                if "example" in media]
    examples += [({"$ref": f"#/components/schemas/{name}"}, example) for name, schema in
                 doc["components"]["schemas"].items() for example in schema.get("examples", [])]
    assert len(examples) > 12
    for schema, example in examples:
        validator = Draft202012Validator({**closed(schema), "components": components}, format_checker=FormatChecker())
        assert list(validator.iter_errors(example)) == [], (schema, example)


def test_the_product_document_narrows_the_same_schemas_to_the_product(api_app: Flask, consumer: int) -> None:
    doc = document(api_app, "/api/v1/products/CONSUMER_INSTALLMENT/openapi.json")
    application = schema(doc, "ApplicationRequest")
    amount = application["properties"]["amount"]
    assert (amount["type"], amount["x-minimum"], amount["x-maximum"], amount["x-multipleOf"]) == (
        "string", "1000.00", "50000.00", "100.00")
    assert application["properties"]["term"]["enum"] == [3, 6, 9, 12, 18, 24]
    assert application["properties"]["method"]["enum"] == ["equal_installment"]
    assert schema(doc, "Applicant")["required"] == ["name", "id_number", "phone", "monthly_income", "bank_account",
                                                    "monthly_debt_payments"]
    assert "collateral" not in application["properties"]
    assert schema(doc, "QuoteRequest")["required"] == ["amount", "term", "method"]
    publish_sample(api_app, "sme_business")
    sme = document(api_app, "/api/v1/products/SME_BUSINESS/openapi.json")
    assert "collateral" in schema(sme, "ApplicationRequest")["required"]
    assert schema(sme, "Collateral")["properties"]["type"]["enum"] == ["property", "vehicle"]


def test_a_paused_product_answers_409_and_the_version_and_etag_follow_the_document(
        api_app: Flask, channel: Channel) -> None:
    client = api_app.test_client()
    before = client.get("/api/v1/openapi.json")
    publish_sample(api_app, "consumer_installment")
    published = client.get("/api/v1/openapi.json")
    assert published.headers["ETag"] != before.headers["ETag"]
    assert published.get_json()["info"]["version"] != before.get_json()["info"]["version"]
    assert published.headers["Last-Modified"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": published.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == published.headers["ETag"]
    quote = {"amount": "2000.00", "term": 6, "method": "equal_installment"}
    assert channel.post(QUOTE, quote).status_code == 200
    pause_consumer(api_app)
    paused = client.get("/api/v1/openapi.json")
    assert set(paused.get_json()["paths"]) == set(published.get_json()["paths"])
    assert paused.headers["ETag"] != published.headers["ETag"]
    refused = channel.post(QUOTE, quote)
    assert refused.status_code == 409 and refused.get_json()["type"] == PROBLEM_BASE + "product-paused"
    assert client.get("/api/v1/products/CONSUMER_INSTALLMENT/openapi.json").status_code == 409
    with api_app.app_context():
        session = get_db(api_app).session()
        resume(session, get_version(session, "CONSUMER_INSTALLMENT"), actor="risk")
        session.commit()
    assert channel.post(QUOTE, quote).status_code == 200
    assert channel.post("/api/v1/products/NO_SUCH_PRODUCT/quotes", quote).status_code == 404


def test_a_new_version_replaces_the_limits_and_shows_its_number(api_app: Flask, channel: Channel,
                                                                 consumer: int) -> None:
    publish_sample(api_app, "short_term_bridge")  # so that the new version's row id (3) is not its number (2)
    richer = sample("consumer_installment")
    richer["amount"] = {**richer["amount"], "max": "80000.00"}
    assert publish_sample(api_app, "consumer_installment", richer) == 3
    doc = document(api_app, "/api/v1/products/CONSUMER_INSTALLMENT/openapi.json")
    assert schema(doc, "ApplicationRequest")["properties"]["amount"]["x-maximum"] == "80000.00"
    assert channel.get("/api/v1/products/CONSUMER_INSTALLMENT").get_json()["version"] == 2
    assert doc["x-products"][0] == {"code": "CONSUMER_INSTALLMENT", "version": 2,
                                    "document": "/api/v1/products/CONSUMER_INSTALLMENT/openapi.json"}


def test_swagger_ui_is_served_from_vendored_files(api_app: Flask) -> None:
    client = api_app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/docs/static/swagger-ui.css").status_code == 200
