"""OpenAPI 3.1 documents generated from the published products.

Every published product gets its own operations, with a concrete path (``/products/CONSUMER_LOAN/quotes``)
whose request schema carries that product's limits: amount ``minimum``/``maximum``/``multipleOf``, the
allowed terms and methods as enums, the applicant fields it requires, and collateral when it requires
it. The operations that do not depend on a product (applications, loans, webhooks) come from
:mod:`api.openapi_common`. The Flask routes stay generic; the document is rebuilt from the database on
each request and cached by the published version ids, which never change once published, so publishing
or pausing a product shows at once, without a restart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.openapi_common import (
    APPLICATION_SCHEMAS,
    COMMON_PATHS,
    COMMON_SCHEMAS,
    IDEMPOTENCY_HEADER,
    PROBLEM_RESPONSES,
    json_response,
)
from api.openapi_credit_lines import line_paths, shared_line_paths
from api.openapi_customers import CUSTOMER_PATHS, CUSTOMER_SCHEMAS, enterprise_property
from api.openapi_debits import DEBIT_PATHS, DEBIT_SCHEMAS
from core.money import MONEY_PATTERN
from core.origination.catalog import REQUIRED_CONSENTS, Offer
from core.products.credit_line import is_credit_line

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
#: the string form of an amount in a request (the number form carries the limits)
AMOUNT_STRING = {"type": "string", "pattern": MONEY_PATTERN}


def _number(value: Decimal) -> int | float:
    """A JSON number for a schema keyword (integral values as integers)."""
    return int(value) if value == value.to_integral_value() else float(value)


def amount_schema(offer: Offer) -> dict[str, Any]:
    """The amount: a number within the product's limits (or the same as a decimal string)."""
    limits = offer.product.amount
    step = limits.step or Decimal("0.01")
    number: dict[str, Any] = {"type": "number", "minimum": _number(limits.min), "maximum": _number(limits.max)}
    if limits.min % step == 0:
        number["multipleOf"] = _number(step)
    return {"description": f"Principal in {offer.currency}: {limits.min} to {limits.max}, {limits.min} plus whole "
                           f"steps of {step}. A JSON number, or the same as a decimal string.",
            "anyOf": [number, AMOUNT_STRING], "examples": [_number(limits.default)]}


def term_schema(offer: Offer) -> dict[str, Any]:
    """The term as an enum of the allowed values."""
    return {"type": "integer", "enum": list(offer.terms), "description": f"Term in {offer.product.term_unit}s.",
            "examples": [offer.product.term_default]}


def method_schema(offer: Offer) -> dict[str, Any]:
    return {"type": "string", "enum": list(offer.methods), "examples": [offer.product.default_method.value]}


def quote_request_schema(offer: Offer) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount", "term", "method"],
        "properties": {
            "amount": amount_schema(offer),
            "term": term_schema(offer),
            "method": method_schema(offer),
            "start_date": {"type": "string", "format": "date", "description": "Disbursement date; today if absent."},
        },
    }


APPLICANT_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 50, "description": "Legal name."},
    "id_number": {"type": "string", "pattern": r"^[0-9]{17}[0-9Xx]$",
                  "description": "Resident ID number (居民身份证号), 18 characters with a valid check digit."},
    "phone": {"type": "string", "pattern": r"^1[3-9][0-9]{9}$", "description": "Mainland mobile number."},
    "monthly_income": {"$ref": "#/components/schemas/MoneyInput"},
    "monthly_debt_payments": {"$ref": "#/components/schemas/MoneyInput"},
    "employment_years": {"type": "number", "minimum": 0, "maximum": 60},
    "housing": {"type": "string", "enum": ["own", "rent", "free"]},
    "occupation": {"type": "string", "enum": ["unemployed", "unskilled", "skilled", "management"]},
    "dependants": {"type": "integer", "minimum": 0, "maximum": 20},
    "bank_account": {"$ref": "#/components/schemas/BankAccount"},
}


def application_request_schema(offer: Offer) -> dict[str, Any]:
    """The application body for ``offer``: its limits, its applicant fields, its collateral."""
    properties: dict[str, Any] = {
        "external_id": {"type": "string", "minLength": 1, "maxLength": 120,
                        "description": "The channel's own reference; unique per channel."},
        "amount": amount_schema(offer),
        "term": term_schema(offer),
        "method": method_schema(offer),
        "purpose": {"type": "string", "minLength": 1, "maxLength": 40,
                    "description": "What the money is for (consumption, appliances, furniture, renovation, car, "
                                   "used_car, education, training, business, or the Chinese words)."},
        "applicant": {
            "type": "object",
            "additionalProperties": False,
            "required": list(offer.required_applicant_fields),
            "properties": APPLICANT_PROPERTIES,
        },
        "consents": {
            "type": "object",
            "additionalProperties": False,
            "required": list(REQUIRED_CONSENTS),
            "properties": {name: {"$ref": "#/components/schemas/Consent"} for name in REQUIRED_CONSENTS},
        },
    }
    required = ["amount", "term", "method", "applicant", "consents", *enterprise_property(offer.product.customer_type)]
    properties.update(enterprise_property(offer.product.customer_type))
    if offer.collateral_types:
        properties["collateral"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "appraised_value"],
            "properties": {
                "type": {"type": "string", "enum": sorted(offer.collateral_types)},
                "appraised_value": {"$ref": "#/components/schemas/MoneyInput"},
                "description": {"type": "string", "maxLength": 500},
            },
        }
        if offer.collateral_required:
            required.append("collateral")
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def _schema_name(prefix: str, code: str) -> str:
    return prefix + "_" + "".join(ch if ch.isalnum() else "_" for ch in code)


def product_paths(offer: Offer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paths and component schemas of one product."""
    quote_name = _schema_name("QuoteRequest", offer.code)
    application_name = _schema_name("ApplicationRequest", offer.code)
    tag = offer.code
    title = f"{offer.name.get('zh', '')} {offer.name.get('en', '')}".strip()
    paths = {
        f"/products/{offer.code}": {"get": {
            "operationId": f"getProduct_{offer.code}", "tags": [tag], "summary": f"{title}: limits and terms",
            "responses": {"200": json_response("ProductDetail", "The product."), **PROBLEM_RESPONSES},
        }},
        f"/products/{offer.code}/quotes": {"post": {
            "operationId": f"quote_{offer.code}", "tags": [tag], "summary": f"Quote {title}",
            "description": "The schedule, APR (年化利率, IRR basis, every fee included) and total cost. Nothing "
                           "is stored.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{quote_name}"}}}},
            "responses": {"200": json_response("Quote", "The priced request."), **PROBLEM_RESPONSES},
        }},
        f"/products/{offer.code}/applications": {"post": {
            "operationId": f"apply_{offer.code}", "tags": [tag], "summary": f"Apply for {title}",
            "description": "Runs eligibility, the credit bureau, scoring and the approval chain: the answer is "
                           "approved, rejected (with reasons) or under_review (queued for a person).",
            "parameters": [IDEMPOTENCY_HEADER],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{application_name}"}}}},
            "responses": {"201": json_response("Application", "The application and its decision."),
                          **PROBLEM_RESPONSES},
        }},
        f"/products/{offer.code}/openapi.json": {"get": {
            "operationId": f"openapi_{offer.code}", "tags": [tag], "summary": "This product's OpenAPI document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                "schema": {"type": "object"}}}}, "404": PROBLEM_RESPONSES["404"]},
        }},
    }
    schemas = {quote_name: quote_request_schema(offer), application_name: application_request_schema(offer)}
    return paths, schemas


def build_document(offers: list[Offer], *, only: str | None = None) -> dict[str, Any]:
    """The OpenAPI document for ``offers`` (one product's when ``only`` names it)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {**COMMON_SCHEMAS, **APPLICATION_SCHEMAS, **DEBIT_SCHEMAS, **CUSTOMER_SCHEMAS}
    for offer in offers:
        product_path_items, product_schemas = product_paths(offer)
        if is_credit_line(offer.document):  # a line is applied for, not a loan
            del product_path_items[f"/products/{offer.code}/applications"]
            del product_schemas[_schema_name("ApplicationRequest", offer.code)]
            line_path_items, line_schemas = line_paths(offer, application_request_schema, amount_schema)
            product_path_items.update(line_path_items)
            product_schemas.update(line_schemas)
        paths.update(product_path_items)
        schemas.update(product_schemas)
    shared_paths, shared_schemas = shared_line_paths(offers)
    paths.update(shared_paths)
    schemas.update(shared_schemas)
    paths.update(COMMON_PATHS)
    paths.update(DEBIT_PATHS)
    paths.update(CUSTOMER_PATHS)
    title = "Loan Product Factory channel API" + (f": {only}" if only else "")
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": title,
            "version": API_VERSION,
            "description": "Generated from the published products; it changes the moment a product is "
                           "published or paused. Money is a decimal string in responses; dates are ISO 8601; "
                           "errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}],
        "tags": [{"name": o.code, "description": o.name.get("en", o.code)} for o in offers],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


_CACHE: dict[tuple[object, ...], dict[str, Any]] = {}
CACHE_SIZE = 64


def document_for(offers: list[Offer], only: str | None = None, scope: str = "") -> dict[str, Any]:
    """The document for the currently published ``offers``, cached by their (code, version id) pairs
    within ``scope`` (the database: version ids are unique only within one)."""
    key = (scope, only, *((o.code, o.version_id) for o in offers))
    document = _CACHE.get(key)
    if document is None:
        document = build_document(offers, only=only)
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = document
    return document
