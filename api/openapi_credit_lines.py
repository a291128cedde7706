"""The OpenAPI paths and schemas of credit lines, generated from each published credit-line product.

A credit-line product gets, besides the catalogue's product and quote paths, its line application
(``/products/{code}/credit-line-applications``: the limit range as ``amount``, term and method optional) in
place of the loan application, and its drawdown request schema (``DrawdownRequest_<code>``: the drawdown
range, terms, methods and ``daily_interest`` when offered). The line paths shared by every product
(``/credit-lines/...``) are added once when any credit-line product is published; their drawdown bodies are
any of the products' drawdown requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.openapi_common import (
    DATE,
    IDEMPOTENCY_HEADER,
    MONEY,
    PAGE_PARAMETERS,
    PROBLEM_RESPONSES,
    _id_parameter,
    _list_of,
    _op,
    json_response,
    ref,
)
from core.credit_lines.application import line_offer
from core.origination.catalog import Offer
from core.products.credit_line import DAILY_INTEREST, LineTerms, is_credit_line

Schema = Callable[[Offer], dict[str, Any]]
LINE_ID = _id_parameter("line_id")
APP_ID = _id_parameter("application_id")

LEVEL = {"type": "object", "required": ["level", "limit", "used", "available"],
         "properties": {"level": {"type": "string", "enum": ["policy", "customer", "line", "channel"]},
                        "limit": MONEY, "used": MONEY, "available": MONEY}}
LINE_SCHEMAS: dict[str, Any] = {
    "CreditLine": {
        "type": "object",
        "required": ["id", "product_code", "state", "limit", "used", "available", "levels", "expires_on"],
        "properties": {
            "id": {"type": "integer"}, "product_code": {"type": "string"}, "product_version": {"type": "integer"},
            "state": {"type": "string", "enum": ["active", "frozen", "expired", "closed"]},
            "revolving": {"type": "boolean"}, "annual_rate": {"type": "string"},
            "limit": MONEY, "used": MONEY,
            "available": {**MONEY, "description": "What a drawdown may take now: the least available of every "
                                                  "level, zero unless the line is active and unexpired."},
            "levels": {"type": "array", "items": LEVEL}, "granted_on": DATE, "expires_on": DATE,
            "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "Drawdown": {
        "type": "object", "required": ["id", "line_id", "application_id", "amount", "state"],
        "properties": {
            "id": {"type": "integer"}, "line_id": {"type": "integer"}, "application_id": {"type": "integer"},
            "amount": MONEY, "method": {"type": "string"}, "term": {"type": "integer"},
            "state": {"type": "string", "description": "The drawdown's application state (disbursing, disbursed...)."},
            "loan_id": {"type": ["integer", "null"]}, "created_at": {"type": ["string", "null"]},
            "disbursement": {"type": ["object", "null"]},
            "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "CreditLineList": _list_of("CreditLine"),
    "DrawdownList": _list_of("Drawdown"),
}


def _name(prefix: str, code: str) -> str:
    return prefix + "_" + "".join(ch if ch.isalnum() else "_" for ch in code)


def drawdown_request_schema(offer: Offer, amount_schema: Schema) -> dict[str, Any]:
    """One product's drawdown body: its drawdown range (``amount_schema`` of the offer), terms and methods
    (``daily_interest`` in days)."""
    line = LineTerms.of(offer.product)
    methods = list(offer.methods) + ([DAILY_INTEREST] if line.daily_max_days else [])
    term = {"type": "integer", "minimum": 1,
            "description": f"Term in {offer.product.term_unit}s ({', '.join(map(str, offer.terms))}); for "
                           f"{DAILY_INTEREST}, days (1 to {line.daily_max_days}) under the chosen_days rule, "
                           "absent under fixed_day." if line.daily_max_days else
                           f"Term in {offer.product.term_unit}s ({', '.join(map(str, offer.terms))})."}
    return {"type": "object", "additionalProperties": False, "required": ["amount", "method"],
            "properties": {"amount": amount_schema(offer), "term": term,
                           "method": {"type": "string", "enum": methods}}}


def line_paths(offer: Offer, application_schema: Schema, amount_schema: Schema) -> tuple[dict[str, Any],
                                                                                          dict[str, Any]]:
    """The line application path of ``offer`` and its schemas; ``application_schema`` and ``amount_schema``
    build an application body and an amount for an offer (:mod:`api.openapi`'s)."""
    body = application_schema(line_offer(offer))
    body["required"] = [name for name in body["required"] if name not in ("term", "method")]
    body["properties"]["amount"]["description"] = "The limit asked for. " + body["properties"]["amount"][
        "description"]
    name = _name("CreditLineApplication", offer.code)
    paths = {f"/products/{offer.code}/credit-line-applications": {"post": {
        "operationId": f"applyForLine_{offer.code}", "tags": [offer.code],
        "summary": f"Apply for a {offer.name.get('en', offer.code)}",
        "description": "Eligibility, the credit bureau, scoring and the approval chain decide the limit asked "
                       "for; an approved application is taken at its credit-line link.",
        "parameters": [IDEMPOTENCY_HEADER],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref(name)}}},
        "responses": {"201": json_response("Application", "The application and its decision."),
                      **PROBLEM_RESPONSES}}}}
    return paths, {name: body, _name("DrawdownRequest", offer.code): drawdown_request_schema(offer, amount_schema)}


def shared_line_paths(offers: list[Offer]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``/credit-lines`` paths, when any of ``offers`` is a credit line (else nothing)."""
    codes = [o.code for o in offers if is_credit_line(o.document)]
    if not codes:
        return {}, {}
    schemas = {**LINE_SCHEMAS, "DrawdownRequest": {"anyOf": [ref(_name("DrawdownRequest", c)) for c in codes]}}
    tag = "credit_lines"
    paths = {
        "/applications/{application_id}/credit-line": {"post": _op(
            "takeCreditLine", "Take an approved line: it is granted", ("201", "CreditLine", "The line."),
            params=[APP_ID], idempotent=True, tag=tag)},
        "/credit-lines": {"get": _op("listCreditLines", "This channel's lines",
                                     ("200", "CreditLineList", "A page of lines."), params=PAGE_PARAMETERS, tag=tag)},
        "/credit-lines/{line_id}": {"get": _op("getCreditLine", "A line: limit, used, available, expiry",
                                               ("200", "CreditLine", "The line."), params=[LINE_ID], tag=tag)},
        "/credit-lines/{line_id}/drawdown-quotes": {"post": _op(
            "quoteDrawdown", "Price a drawdown at the line's rate", ("200", "Quote", "The priced drawdown."),
            body="DrawdownRequest", params=[LINE_ID], tag=tag)},
        "/credit-lines/{line_id}/drawdowns": {"post": _op(
            "requestDrawdown", "Draw on the line: limits taken, payout sent",
            ("202", "Drawdown", "The drawdown; its loan is booked when the payment channel settles."),
            body="DrawdownRequest", params=[LINE_ID], idempotent=True, tag=tag)},
        "/credit-lines/{line_id}/loans": {"get": _op(
            "listLineLoans", "The line's drawdowns and their loans", ("200", "DrawdownList", "A page of drawdowns."),
            params=[LINE_ID, *PAGE_PARAMETERS], tag=tag)},
    }
    return paths, schemas
