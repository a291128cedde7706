"""Hostile input: every field of every operation that takes a body or a query, on SQLite and PostgreSQL.

The fields come from the OpenAPI document the app serves (each request body's schema walked to its leaves,
each query parameter), so an operation or a field added later is probed too. Each field is sent, in an
otherwise valid request, every value of its kind that a careless client or an attacker would send: numbers
past any limit (``1e26``, ``1e400``), money in forms the documented pattern does not allow (``" 5000.00 "``,
``"５０００"``, ``"5E3"``...), dates no loan reaches (``9999-12-31``), a lone surrogate, a NUL byte (which
PostgreSQL cannot store), text past its length. The answer must be a 4xx problem+json naming the field, never a
5xx. Whole bodies are probed too: 10,000 levels of nesting, bytes that are not UTF-8, a body over the size limit.

One app per database serves every request (with an application of the channel, so the operations on an
application reach their body checks); PostgreSQL is where a NUL byte or an overlong value would break a write.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loanfactory.database import get_db
from tests.api.conftest import (
    APPLY,
    GOOD_ID,
    PAYMENT_PLUGINS,
    application_body,
    make_api_app,
    new_key,
    publish_sample,
)
from tests.conftest import fresh_postgres_database, require_service


@dataclass(frozen=True)
class Raw:
    """A JSON value written as it stands (``1e400`` is no Python float)."""

    text: str


def to_json(body: Any) -> bytes:
    """``body`` as JSON, :class:`Raw` values written verbatim and lone surrogates kept as escapes."""
    raws: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"__raw_{len(raws) - 1}__"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(body))  # ensure_ascii: a lone surrogate becomes "\ud800", valid JSON text
    return re.sub(r'"__raw_(\d+)__"', lambda m: raws[int(m.group(1))], text).encode()


SURROGATE, NUL = "\ud800", "a\x00b"
ANY_KIND: list[Any] = [SURROGATE, NUL, {"$gt": ""}, [1], True]
HOSTILE: dict[str, list[Any]] = {
    "money": [*ANY_KIND, Raw("1e26"), Raw("1e400"), Raw("-1"), Raw("0.001"), Raw("99999999999999999999"),
              "1e400", "1E26", " 5000.00 ", "５０００", "٥٠٠٠", "5_000", "+5000.00", "5E3", "5,000.00", "NaN",
              "Infinity", "-0", "", "0x10", "5000.00\n", "9" * 30, "9999-12-31"],
    "date": [*ANY_KIND, "9999-12-31", "0001-01-01", "2026-02-30", "20260310", "2026-W10-1", "2026-03-10T00:00",
             Raw("20260310"), ""],
    "datetime": [*ANY_KIND, "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-01-10T10:00:00",
                 "2999-01-01T00:00:00+08:00", "2026-01-10", Raw("1"), ""],
    "number": [*ANY_KIND, Raw("1e400"), Raw("-1e400"), Raw("1e26"), Raw("-1"), Raw("99999999999999999999"), "5"],
    "text": [*ANY_KIND, "x" * 100_000, Raw("1e400")],
}


def kind_of(schema: dict[str, Any], document: dict[str, Any]) -> str | None:
    """The hostile list a leaf schema gets (``None``: not a leaf this test probes)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in ("MoneyInput", "PositiveMoneyInput"):
            return "money"
        return kind_of(document["components"]["schemas"][name], document)
    types = {option.get("type") for option in schema.get("anyOf", [])}
    if types == {"number", "string"}:
        return "money"
    if schema.get("format") == "date":
        return "date"
    if schema.get("format") == "date-time":
        return "datetime"
    if schema.get("type") in ("integer", "number"):
        return "number"
    if schema.get("type") == "string":
        return "text"
    return None


def leaves(schema: dict[str, Any], document: dict[str, Any], pointer: str = "") -> Iterator[tuple[str, str]]:
    """``(pointer, kind)`` of every leaf field of ``schema`` (the first item of an array)."""
    if "$ref" in schema and kind_of(schema, document) != "money":
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "object":
        for name, child in schema.get("properties", {}).items():
            yield from leaves(child, document, f"{pointer}/{name}")
    elif schema.get("type") == "array":
        yield from leaves(schema["items"], document, f"{pointer}/0")
    else:
        kind = kind_of(schema, document)
        if kind is not None:
            yield pointer, kind


SME_APPLICATION = {**application_body("200000.00", 12), "method": "interest_only", "collateral": {
    "type": "property", "appraised_value": "800000.00", "description": "flat"}}
SME_APPLICATION["applicant"] = {**SME_APPLICATION["applicant"], "monthly_income": "90000.00"}
ENTERPRISE = {"name": "深圳市示例科技有限公司", "credit_code": "9144030071526726XG", "registered_capital": "1000000.00",
              "industry_code": "I6513", "registered_address": "深圳市南山区科技园 1 号",
              "operating_address": "福田区 2 号",
              "bank_account": {"bank_code": "CMB", "account_number": "755912345678901",
                               "holder_name": "深圳市示例科技有限公司"}}
SME_APPLICATION["enterprise"] = ENTERPRISE
PERSON = {"name": "张三", "id_number": GOOD_ID, "phone": "13812345678", "monthly_income": "20000.00",
          "address": "上海市浦东新区世纪大道 100 号"}
RELATION = {"kind": "emergency_contact", "contact": {"name": "李四", "phone": "13912345678"}}
#: a valid body of each operation (by operationId), every optional field present so every field is probed
VALID: dict[str, dict[str, Any]] = {
    "createQuote_CONSUMER_INSTALLMENT": {"amount": "12000.00", "term": 6, "method": "equal_installment",
                                   "start_date": "2026-03-02"},
    "createQuote_SME_BUSINESS": {"amount": "200000.00", "term": 12, "method": "interest_only",
                           "start_date": "2026-03-02"},
    "createApplication_CONSUMER_INSTALLMENT": {**application_body(), "external_id": "ext-1"},
    "createApplication_SME_BUSINESS": SME_APPLICATION,
    "resubmitApplication": {"comment": "payslips attached",
                            "documents": [{"type": "income_proof", "reference": "doc-1", "description": "payslip"}],
                            "applicant": {"monthly_income": "20000.00", "monthly_debt_payments": "0.00",
                                          "employment_years": 5, "housing": "own", "occupation": "skilled",
                                          "dependants": 1}},
    "signContract": {"signer_name": "张三", "sha256": "0" * 64},
    "repay": {"amount": "100.00", "paid_on": "2026-03-10", "reference": "bank-1"},
    "quotePrepayment": {"amount": "100.00", "on": "2026-03-10", "mode": "keep_term"},
    "prepay": {"amount": "100.00", "on": "2026-03-10", "mode": "keep_term"},
    "subscribe": {"url": "http://127.0.0.1:9/hook", "events": ["application.*"]},
    "createCustomer": {**PERSON, "emergency_contacts": [{"name": "李四", "phone": "13912345678"}]},
    "addCustomerRelation": RELATION,
    "createEnterprise": {**ENTERPRISE, "legal_representative": PERSON},
    "revokeDebitAuthorisation": {"reason": "the borrower repays by bank transfer"},
}


#: the credit-line operations, whose fields tests/credit_lines/test_api.py probes on a line product (this fixture
#: sells loans only: a loan product refuses a line application by its product, and there is no line to draw on)
LINE_OPERATIONS = frozenset({"applyForCreditLine", "quoteDrawdown", "requestDrawdown"})


def put(body: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with ``value`` at ``pointer`` (and a new ``external_id``: one names one application)."""
    copy: dict[str, Any] = json.loads(json.dumps(body))
    if "external_id" in copy:
        copy["external_id"] = str(uuid.uuid4())
    parts = pointer.strip("/").split("/")
    target: Any = copy
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(parts[-1])] = value
    else:
        target[parts[-1]] = value
    return copy


@dataclass(frozen=True)
class Served:
    """The app of one database, a key, and the ids the paths need."""

    app: Flask
    client: FlaskClient
    key: str
    application_id: int
    subscription_id: int
    customer_id: int
    enterprise_id: int

    def send(self, method: str, path: str, data: bytes | None = None, **headers: str) -> Any:
        return self.client.open(path, method=method, data=data, headers={
            "X-API-Key": self.key, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4()),
            **headers})


def serve(url: str) -> Iterator[Served]:
    # TESTING off so that a 5xx is answered, not raised; the demo mode accepts the tests' missing secrets
    app = make_api_app(url, TESTING=False, DEMO=True, API_RATE_LIMIT_ENABLED=False, **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    publish_sample(app, "sme_business")
    key = new_key(app)
    client = app.test_client()
    created = client.post(APPLY, json=application_body(), headers={"X-API-Key": key, "Idempotency-Key": "first"})
    assert created.status_code == 201, created.get_json()
    subscribed = client.post("/api/v1/webhooks", json=VALID["subscribe"],
                             headers={"X-API-Key": key, "Idempotency-Key": "hook"})
    assert subscribed.status_code == 201, subscribed.get_json()
    enterprise = client.post("/api/v1/enterprises", json=VALID["createEnterprise"],
                             headers={"X-API-Key": key, "Idempotency-Key": "enterprise"})
    assert enterprise.status_code == 201, enterprise.get_json()
    VALID["addEnterpriseRelation"] = {"kind": "guarantor",
                                      "related_customer_id": enterprise.get_json()["legal_representative_id"]}
    yield Served(app, client, key, created.get_json()["id"], subscribed.get_json()["id"],
                 enterprise.get_json()["legal_representative_id"], enterprise.get_json()["id"])
    get_db(app).engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if request.param == "sqlite":
        yield from serve(f"sqlite:///{tmp_path_factory.mktemp('hostile')}/hostile.sqlite3")
        return
    require_service(request.getfixturevalue("postgres_available"), "PostgreSQL is not reachable at 127.0.0.1:5432")
    for url in fresh_postgres_database():
        yield from serve(url)


#: the products served: an operation of one product is probed for each, with the product's own document
PRODUCTS = ("CONSUMER_INSTALLMENT", "SME_BUSINESS")


def operations(served: Served) -> Iterator[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    """``(method, path, operationId, operation, document)`` of every operation in the served document; one of a
    product's operations once per product (its id suffixed with the code), read from the product's document."""
    whole = served.client.get("/api/v1/openapi.json").get_json()
    ids = {"{application_id}": served.application_id, "{loan_id}": 999, "{subscription_id}": served.subscription_id,
           "{customer_id}": served.customer_id, "{enterprise_id}": served.enterprise_id}
    for template in whole["paths"]:
        for code in PRODUCTS if "{code}" in template else (None,):
            document = served.client.get(f"/api/v1/products/{code}/openapi.json").get_json() if code else whole
            path = "/api/v1" + template.replace("{code}", code or "")
            for placeholder, value in ids.items():
                path = path.replace(placeholder, str(value))
            if "{" in path:  # a credit line's: this fixture sells loans only (tests/credit_lines probe them)
                continue
            for method, operation in document["paths"][template].items():
                yield (method.upper(), path, operation["operationId"] + (f"_{code}" if code else ""), operation,
                       document)


def parameters(operation: dict[str, Any], document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The operation's parameters, references resolved."""
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        yield parameter


def named(response: Any, pointer: str) -> bool:
    """Whether the problem names ``pointer`` (or the array or object holding it)."""
    errors = response.get_json().get("errors", [])
    where = [e.get("pointer") or "/query:" + e.get("parameter", "") for e in errors]
    return any(w and (w == pointer or pointer.startswith(w + "/")) for w in where)


def refusals(response: Any) -> str:
    return f"{response.status_code} {response.get_data(as_text=True)[:300]}"


def test_every_field_of_every_body_refuses_every_hostile_value_naming_the_field(served: Served) -> None:
    failures, probed = [], set()
    for method, path, operation_id, operation, document in operations(served):
        if ("application/json" not in operation.get("requestBody", {}).get("content", {})
                or operation_id == "paymentCallback" or operation_id.split("_")[0] in LINE_OPERATIONS):
            continue
        base = VALID[operation_id]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        for pointer, kind in leaves(schema, document):
            probed.add(f"{operation_id}{pointer}")
            for value in HOSTILE[kind]:
                response = served.send(method, path, to_json(put(base, pointer, value)))
                if not (400 <= response.status_code < 500 and response.mimetype == "application/problem+json"
                        and named(response, pointer)):
                    failures.append(f"{operation_id} {pointer} = {str(value)[:40]!r}: {refusals(response)}")
    assert len(probed) > 60, sorted(probed)
    assert not failures, "\n".join(failures)


def test_whole_bodies_that_no_parser_should_choke_on_are_4xx_problems(served: Served) -> None:
    bodies = {"10,000 levels of nesting": b"[" * 10_000 + b"]" * 10_000,
              "an object 10,000 deep": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
              "not UTF-8": b'{"amount": "\xff\xfe"}', "a lone surrogate as a key": b'{"\\ud800": 1}',
              "a NUL as a key": b'{"\\u0000": 1}', "not an object": b"[1, 2]", "empty": b"",
              "a number": b"1e400", "over the size limit": b'{"comment": "' + b"x" * 1_100_000 + b'"}'}
    failures = []
    for method, path, operation_id, operation, _document in operations(served):
        if "requestBody" not in operation:
            continue
        for name, body in bodies.items():
            response = served.send(method, path, body)
            if not (400 <= response.status_code < 500 and response.mimetype == "application/problem+json"):
                failures.append(f"{operation_id} {name}: {refusals(response)}")
    assert not failures, "\n".join(failures)


def test_the_size_limit_is_a_413_problem(served: Served) -> None:
    response = served.send("POST", "/api/v1/webhooks", b'{"url": "' + b"x" * 1_100_000 + b'"}')
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Request Entity Too Large"


QUERY_HOSTILE = ["1e400", "-1", "0", "٥", "５", "a\x00b", "9" * 30, "", " 1", "1.0"]


def test_every_query_parameter_refuses_hostile_values_naming_the_parameter(served: Served) -> None:
    failures, probed = [], 0
    for method, path, operation_id, operation, document in operations(served):
        for parameter in parameters(operation, document):
            if parameter["in"] != "query":
                continue
            probed += 1
            for value in QUERY_HOSTILE:
                response = served.client.open(path, method=method, query_string={parameter["name"]: value},
                                              headers={"X-API-Key": served.key})
                if not (400 <= response.status_code < 500 and response.mimetype == "application/problem+json"
                        and named(response, "/query:" + parameter["name"])):
                    failures.append(f"{operation_id} ?{parameter['name']}={value!r}: {refusals(response)}")
    assert probed >= 9
    assert not failures, "\n".join(failures)


def problem_pointers(response: Any) -> dict[str, str]:
    return {e.get("pointer", ""): e["detail"] for e in response.get_json().get("errors", [])}


def test_an_application_of_only_an_amount_of_zero_names_every_field(served: Served) -> None:
    response = served.send("POST", APPLY, b'{"amount": "0"}')
    assert response.status_code == 422
    pointers = problem_pointers(response)
    assert pointers["/amount"] == "must be greater than 0"
    assert pointers["/term"] == pointers["/method"] == "is required"
    assert {"/applicant", "/consents"} <= set(pointers)


@pytest.mark.parametrize("amount", ["5000", "5000.0", "5000.00", Raw("5000"), Raw("5000.00"), Raw("5e3")])
def test_money_in_the_documented_forms_is_read(served: Served, amount: Any) -> None:
    """A decimal string of the pattern, or a JSON number (read exactly, whatever its notation)."""
    quote = served.send("POST", "/api/v1/products/CONSUMER_INSTALLMENT/quotes", to_json(
        {"amount": amount, "term": 6, "method": "equal_installment", "start_date": "2026-03-02"}))
    assert quote.status_code == 200, quote.get_json()
    assert (quote.get_json()["amount"], quote.get_json()["installments"][0]["total"]) == ("5000.00", "877.69")


@pytest.mark.parametrize("amount", [" 5000.00 ", "５０００", "٥٠٠٠", "5_000", "+5000.00", "5E3", "5,000.00",
                                    "5000.000", "12345678901234"])
def test_money_in_any_other_form_is_refused_naming_the_field(served: Served, amount: str) -> None:
    quote = served.send("POST", "/api/v1/products/CONSUMER_INSTALLMENT/quotes", to_json(
        {"amount": amount, "term": 6, "method": "equal_installment"}))
    assert quote.status_code == 422
    assert problem_pointers(quote) == {"/amount": 'must be a decimal string such as "5000.00": digits only, at most '
                                                 "13 before the point and 2 after"}


def test_a_landline_is_not_a_mobile_and_a_consent_from_tomorrow_is_refused(served: Served) -> None:
    from datetime import UTC, datetime, timedelta

    body = application_body(phone="010 6512 3456")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    body["consents"]["personal_information"]["granted_at"] = tomorrow
    response = served.send("POST", APPLY, to_json(body))
    assert response.status_code == 422
    assert problem_pointers(response) == {
        "/applicant/phone": "is not a valid Chinese mobile number",
        "/consents/personal_information/granted_at": "must not be in the future"}
    body = application_body()
    body["consents"]["personal_information"]["granted_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    assert served.send("POST", APPLY, to_json(body)).status_code == 201
