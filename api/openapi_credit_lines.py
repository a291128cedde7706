"""The contract of credit lines (:mod:`api.views.credit_lines`): operations and schemas in the API's registry.

The operations are stable and generic like every other (:mod:`api.openapi.operations`): a line is applied for
at ``/products/{code}/credit-line-applications`` whatever is published, then taken, drawn on and listed under
``/credit-lines``. The whole document's ``CreditLineApplicationRequest`` and ``DrawdownRequest`` admit what any
line product could; a credit-line product's own document narrows them (:func:`tailor`): the limit range as the
application's ``amount`` (term and method optional), and the drawdown's range, terms and methods
(``daily_interest`` when the product offers it, its term then in days).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from api.openapi.registry import PRODUCT, Operation, Success, register, register_schemas
from api.openapi.requests import EXAMPLE_ID, REQUEST_SCHEMAS, amount_schema, method_schema, narrowed
from api.openapi.resources import APPLICATION_STATE
from api.openapi.schemas import (
    DATE,
    DATETIME,
    INTEGER,
    METHOD,
    MONEY,
    RATE,
    STRING,
    _links,
    _list_of,
    enum,
    nullable,
    obj,
    path_id,
    ref,
)
from core.credit_lines.application import line_offer
from core.credit_lines.lifecycle import LINE_STATES
from core.origination.catalog import Offer
from core.products.credit_line import DAILY_INTEREST, LineTerms, is_credit_line

CODE = {"$ref": "#/components/parameters/code"}
PAGE = ({"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"})
LINE_ID = path_id("line_id", "credit line")
APPLICATION_ID = path_id("application_id", "application")
TAG = "credit_lines"

LEVEL = obj({"level": enum(["policy", "customer", "line", "channel"]), "limit": MONEY, "used": MONEY,
             "available": MONEY}, description="One level of the limits a drawdown must fit in.")
LINE_SCHEMAS: dict[str, Any] = {
    "CreditLine": obj({
        "id": INTEGER, "product_code": STRING,
        "product_version": {"type": "integer", "description": "The product's version number it was granted under."},
        "state": enum(LINE_STATES.states, "active, frozen, expired or closed."),
        "revolving": {"type": "boolean", "description": "Whether repaid principal can be drawn again."},
        "annual_rate": RATE, "limit": MONEY, "used": MONEY,
        "available": {**MONEY, "description": "What a drawdown may take now: the least available of every level, "
                                              "zero unless the line is active and unexpired."},
        "levels": {"type": "array", "items": LEVEL}, "granted_on": DATE, "expires_on": DATE,
        "links": _links("self", "drawdown_quotes", "drawdowns", "loans"),
    }, description="A granted credit line: its limit, what is used and available, its dates."),
    "DrawdownDisbursement": obj({"request_id": STRING, "status": STRING, "failure": nullable(STRING)},
                                description="The payout order of a drawdown."),
    "Drawdown": obj({
        "id": INTEGER, "line_id": INTEGER, "application_id": INTEGER, "amount": MONEY, "method": STRING,
        "term": INTEGER, "state": {**APPLICATION_STATE, "description": "The drawdown's application state."},
        "loan_id": nullable(INTEGER), "created_at": nullable(DATETIME),
        "disbursement": nullable(ref("DrawdownDisbursement")),
        "links": _links("application", "line", optional=("loan",)),
    }, description="A drawdown on a line: its application, its payout and, once settled, its loan."),
    "CreditLineList": _list_of("CreditLine"),
    "DrawdownList": _list_of("Drawdown"),
    "DrawdownRequest": {**obj({
        "amount": ref("PositiveMoneyInput"),
        "term": {"type": "integer", "minimum": 1, "description": "In the product's term unit; for daily_interest, "
                                                                 "days (absent under the fixed_day rule)."},
        "method": enum([*METHOD["enum"], DAILY_INTEREST], "A method the product offers on drawdowns."),
    }, required=["amount", "method"], description="A drawdown; a line product's own document narrows it."),
        "additionalProperties": False},
}


def _line_application(request: dict[str, Any], what: str) -> dict[str, Any]:
    """A line application: the application ``request`` with the limit as its amount, term and method optional."""
    request["required"] = [name for name in request["required"] if name not in ("term", "method")]
    request["properties"]["amount"] = {**request["properties"]["amount"],
                                       "description": "The limit asked for. " + request["properties"][
                                           "amount"].get("description", "")}
    request["description"] = f"An application for a credit line{what}."
    return request


def _drawdown(offer: Offer) -> dict[str, Any]:
    line = LineTerms.of(offer.product)
    method = method_schema(offer)
    method["enum"] = [*method["enum"], *([DAILY_INTEREST] if line.daily_max_days else [])]
    terms = ", ".join(map(str, offer.terms))
    term = {"type": "integer", "minimum": 1, "description": f"Term in {offer.product.term_unit}s ({terms})" + (
        f"; for {DAILY_INTEREST}, days (1 to {line.daily_max_days}) under the chosen_days rule, absent under "
        "fixed_day." if line.daily_max_days else ".")}
    return {**obj({"amount": amount_schema(offer), "term": term, "method": method}, required=["amount", "method"],
                  description=f"A drawdown on a line of {offer.code}."), "additionalProperties": False}


def tailor(offer: Offer | None, schemas: dict[str, Any]) -> None:
    """Add the line application's schema to ``schemas``: generic, or narrowed to ``offer`` with its drawdown
    request when ``offer`` is a credit line (a loan product's document keeps the generic ones)."""
    if offer is not None and is_credit_line(offer.document):
        schemas["CreditLineApplicationRequest"] = _line_application(
            narrowed(line_offer(offer))["ApplicationRequest"], f" of {offer.code}")
        schemas["DrawdownRequest"] = _drawdown(offer)
    else:
        schemas["CreditLineApplicationRequest"] = _line_application(
            deepcopy(REQUEST_SCHEMAS["ApplicationRequest"]),
            "" if offer is None else f" (none: {offer.code} is a loan product, its applications are refused at "
                                     "`/product`)")


def register_operations() -> None:
    """Register the credit-line operations and schemas (once, when the registry is assembled)."""
    register_schemas(LINE_SCHEMAS, tailor)
    line = (LINE_ID,)
    drawing = ("not-found", "forbidden", "wrong-state", "refused")
    for operation in (
        Operation("applyForCreditLine", "post", "/products/{code}/credit-line-applications", "Apply for a credit line",
                  "Eligibility, the credit bureau, scoring and the approval chain decide the limit asked for "
                  "(`amount`); an approved application is taken at its `links.credit_line`. A loan product answers "
                  f"422 (`/product`). The applicant's ID number must carry a valid check digit ({EXAMPLE_ID}).",
                  TAG, Success("201", "The application and its decision.", "Application", headers=("Location",)),
                  parameters=(CODE,), problems=(*PRODUCT, "damaged-record"), body="CreditLineApplicationRequest",
                  idempotent=True),
        Operation("takeCreditLine", "post", "/applications/{application_id}/credit-line",
                  "Take an approved line: it is granted",
                  "approved -> line_granted; the line is active from today, at the approved limit and rate.", TAG,
                  Success("201", "The line.", "CreditLine"), parameters=(APPLICATION_ID,),
                  problems=("not-found", "forbidden", "wrong-state", "damaged-record"), idempotent=True),
        Operation("listCreditLines", "get", "/credit-lines", "This channel's lines", "Newest first.", TAG,
                  Success("200", "A page of lines.", "CreditLineList"), parameters=PAGE,
                  problems=("invalid-request",)),
        Operation("getCreditLine", "get", "/credit-lines/{line_id}", "A line: limit, used, available, expiry",
                  "What a drawdown may take now, at every level of the limits.", TAG,
                  Success("200", "The line.", "CreditLine"), parameters=line, problems=("not-found", "forbidden")),
        Operation("quoteDrawdown", "post", "/credit-lines/{line_id}/drawdown-quotes",
                  "Price a drawdown at the line's rate", "Nothing is stored.", TAG,
                  Success("200", "The priced drawdown.", "Quote"), parameters=line, problems=drawing,
                  body="DrawdownRequest", body_example={"amount": "500.00", "term": 3, "method": "equal_installment"}),
        Operation("requestDrawdown", "post", "/credit-lines/{line_id}/drawdowns",
                  "Draw on the line: limits taken, payout sent",
                  "The limits of every level are taken in one transaction and the payout sent to the product's "
                  "payment channel; its callback books the loan.", TAG,
                  Success("202", "The drawdown; its loan is booked when the payment channel settles.", "Drawdown"),
                  parameters=line, problems=(*drawing, "damaged-record", "plugin-unavailable"),
                  body="DrawdownRequest", body_example={"amount": "500.00", "term": 3, "method": "equal_installment"},
                  idempotent=True),
        Operation("listLineLoans", "get", "/credit-lines/{line_id}/loans", "The line's drawdowns and their loans",
                  "Newest first.", TAG, Success("200", "A page of drawdowns.", "DrawdownList"),
                  parameters=(*line, *PAGE), problems=("not-found", "forbidden", "invalid-request")),
    ):
        register(operation)
