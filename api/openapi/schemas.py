"""The component schemas of the channel API's resources: every response typed, every state enumerated.

Each schema here is the contract of a JSON shape the views write (:mod:`api.serialize`, :mod:`api.views`):
objects declare every property they carry (``tests/api/contract.py`` validates every response the API tests
receive against the document, treating undeclared properties as errors), money is the ``Money`` component (a
two-decimal string), rates are decimal strings, times carry their offset. States are the kernel's state
machines (:mod:`core.states`), so a state added there is a state the document enumerates.
"""

from __future__ import annotations

from typing import Any

from core.credit_lines.lifecycle import LINE_STATES
from core.money import MONEY_PATTERN
from core.schedule.terms import Method
from core.states import APPLICATION_STATES, DEBIT_STATES, LOAN_STATES, StateMachine

#: the largest id a path accepts (a 32-bit integer key); larger ones are simply not found
MAX_ID = 2**31 - 1


def path_id(name: str, what: str) -> dict[str, Any]:
    """The path parameter ``name``: the id of a ``what``."""
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or ``null`` (a reference is wrapped: ``$ref`` siblings are not for code generators)."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: list[str] | None = None, description: str = "",
        **extra: Any) -> dict[str, Any]:
    """An object schema declaring ``properties`` (all of them required unless ``required`` says which)."""
    schema: dict[str, Any] = {"type": "object", "required": list(properties) if required is None else required,
                              "properties": properties, **extra}
    if description:
        schema["description"] = description
    return schema


def enum(values: list[str] | tuple[str, ...] | frozenset[str], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": sorted(values)}
    if description:
        schema["description"] = description
    return schema


#: a positive amount as a request writes it
POSITIVE_MONEY_PATTERN = r"^(?!0+(\.0+)?$)" + MONEY_PATTERN[1:]
MONEY = ref("Money")
RATE = ref("Rate")
DATE = {"type": "string", "format": "date"}
DATETIME = ref("DateTime")
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT = {"type": "string", "minLength": 1}
NAME = obj({"zh": STRING, "en": STRING}, description="The name in Chinese and in English.")
METHOD = enum([m.value for m in Method], "Repayment method: equal_installment 等额本息, equal_principal 等额本金, "
                                        "interest_only 先息后本, bullet 到期还本付息.")
#: the state machines whose moves are webhook events (:mod:`core.channels.webhooks`)
EVENT_MACHINES: tuple[StateMachine, ...] = (APPLICATION_STATES, LOAN_STATES, DEBIT_STATES, LINE_STATES)
#: the kinds of a webhook event: ``<entity>.<state>`` for every state of those machines
EVENT_TYPES = sorted(f"{machine.entity}.{state}" for machine in EVENT_MACHINES for state in machine.states)


def _links(*names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return obj({name: STRING for name in (*names, *optional)}, required=list(names),
               description="Where to go from here: relative URLs of the related resources and actions.")


def _list_of(item: str) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": ref(item)}, "page": ref("Page")},
               description=f"A page of {item} resources, newest first unless said otherwise.")


PRIMITIVES: dict[str, Any] = {
    "Money": {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["12000.00"],
              "description": "Yuan with two decimals, as a string (never a JSON number)."},
    "MoneyInput": {"type": "string", "pattern": MONEY_PATTERN, "examples": ["5000.00"],
                   "description": "Yuan as a decimal string of ASCII digits, at most 2 decimals: no sign, spaces, "
                                  "exponent or separators. (The server also reads a JSON number exactly, but "
                                  "send strings: a float may not hold the fen.)"},
    "PositiveMoneyInput": {"type": "string", "pattern": POSITIVE_MONEY_PATTERN,
                           "examples": ["862.89"], "description": "A MoneyInput greater than zero."},
    "Rate": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["0.1400"],
             "description": "A fraction as a decimal string: 0.14 is 14%."},
    "DateTime": {"type": "string", "format": "date-time", "examples": ["2026-03-02T10:00:00+08:00"],
                 "description": "RFC 3339 with its offset, in Beijing time (+08:00)."},
    "Page": obj({"page": INTEGER, "per_page": INTEGER, "total": INTEGER, "next": nullable(STRING),
                 "prev": nullable(STRING)}, description="Where this page is in the list, and links to its "
                                                         "neighbours."),
    "Problem": obj({
        "type": {"type": "string", "format": "uri", "description": "What went wrong; the operation lists the "
                                                                   "values it can answer with."},
        "title": STRING, "status": INTEGER, "detail": STRING,
        "errors": {"type": "array", "items": ref("FieldError")},
    }, required=["type", "title", "status"], description="An error (RFC 9457 problem details).",
        examples=[{"type": "https://loanfactory.example/problems/invalid-request", "title": "Invalid request",
                   "status": 422, "detail": "2 fields are invalid",
                   "errors": [{"pointer": "/amount", "detail": "must be at most 50000.00"},
                              {"pointer": "/applicant/id_number", "detail": "checksum digit is wrong"}]}]),
    "FieldError": obj({"pointer": {"type": "string", "description": "JSON pointer into the request body."},
                       "header": {"type": "string", "description": "The request header at fault."},
                       "parameter": {"type": "string", "description": "The query parameter at fault."},
                       "detail": STRING}, required=["detail"],
                      description="One bad field, named by exactly one of pointer, header or parameter."),
    "Name": NAME,
}

PRODUCT_SCHEMAS: dict[str, Any] = {
    "ProductSummary": obj({
        "code": STRING, "version": {"type": "integer", "description": "The product's version number (1, 2, ...), "
                                                                      "as the admin and the CLI show it."},
        "name": ref("Name"), "currency": STRING,
        "amount": obj({"min": MONEY, "max": MONEY}), "term": obj({"unit": STRING, "min": INTEGER, "max": INTEGER}),
        "methods": {"type": "array", "items": METHOD}, "links": _links("self"),
    }, description="A product on sale, in brief."),
    "ProductList": _list_of("ProductSummary"),
    "ProductDetail": obj({
        "code": STRING, "version": {"type": "integer", "description": "The product's version number."},
        "name": ref("Name"), "description": nullable(obj({"zh": STRING, "en": STRING}, required=[])),
        "customer_type": enum(["individual", "enterprise"]), "currency": STRING,
        "amount": obj({"min": MONEY, "max": MONEY, "step": nullable(MONEY), "default": MONEY},
                      description="What may be borrowed: min, then min plus whole steps, up to max."),
        "term": obj({"unit": enum(["day", "week", "month", "year"]), "values": {"type": "array", "items": INTEGER},
                     "default": INTEGER}, description="The allowed terms, in the unit."),
        "methods": {"type": "array", "items": METHOD}, "default_method": METHOD,
        "annual_rate": obj({"min": RATE, "max": RATE, "default": RATE},
                           description="The nominal annual rate's range; the decision prices at the risk band."),
        "fees": {"type": "array", "items": obj({
            "code": STRING, "name": ref("Name"),
            "when": enum(["upfront", "per_installment", "on_prepayment", "late"]),
            "basis": enum(["fixed", "percent_of_principal", "percent_of_outstanding"]),
            "value": {"type": "string", "description": "Yuan for a fixed fee, a fraction for a percent basis."}})},
        "prepayment": obj({"allowed": {"type": "boolean"}, "earliest_period": INTEGER,
                           "partial_allowed": {"type": "boolean"},
                           "reschedule_mode": enum(["keep_term", "keep_installment"])}, required=["allowed"]),
        "collateral": obj({"required": {"type": "boolean"},
                           "types": {"type": "array", "items": obj({"type": STRING, "max_ltv": RATE})},
                           "min_coverage": RATE}, required=["required", "types"]),
        "required_applicant_fields": {"type": "array", "items": STRING},
        "required_consents": {"type": "array", "items": STRING},
        "links": _links("quotes", "applications", "openapi"),
    }, required=["code", "version", "name", "description", "customer_type", "currency", "amount", "term", "methods",
                 "default_method", "annual_rate", "fees", "prepayment", "collateral", "required_applicant_fields",
                 "required_consents", "links"], description="Everything a channel needs to build its forms."),
    "Installment": obj({"period": INTEGER, "due_date": DATE, "principal": MONEY, "interest": MONEY, "fee": MONEY,
                        "total": MONEY, "remaining_principal": MONEY},
                       description="One installment of a quote: what is due on the date, and the principal left."),
    "Quote": obj({
        "product_code": STRING, "product_version": INTEGER, "amount": MONEY, "term": INTEGER, "term_unit": STRING,
        "method": METHOD, "annual_rate": RATE,
        "apr": {**RATE, "description": "年化利率: the IRR of the borrower's cash flows, every fee included."},
        "effective_annual_rate": RATE, "start_date": DATE, "maturity_date": DATE, "upfront_fee": MONEY,
        "total_interest": MONEY, "total_fees": MONEY, "total_cost": MONEY, "total_payable": MONEY,
        "currency": STRING, "installments": {"type": "array", "items": ref("Installment")},
    }, description="A priced request at the product's default rate; nothing is stored."),
}
