"""Request bodies: the generic schemas of the whole document, and each product's narrowing of them.

The whole document's ``QuoteRequest`` and ``ApplicationRequest`` admit what any product could (every
repayment method, any term, collateral of any type): its operations never change when a product is published,
paused or retired, so a client generated yesterday keeps compiling. A product's own document
(``/products/{code}/openapi.json``) carries the same operations under the same names with these two schemas
narrowed to the product: its terms and methods as enums, the applicant fields it requires, its collateral
(required, or absent when the product takes none), and its amount limits in the description and in
``x-minimum``, ``x-maximum`` and ``x-multipleOf`` (a string cannot carry ``minimum``). Amounts are strings.
"""

from __future__ import annotations

from copy import deepcopy
from decimal import Decimal
from typing import Any

from stdnum.cn import ric

from api.openapi.schemas import DATE, METHOD, POSITIVE_MONEY_PATTERN, obj, ref
from core.origination.catalog import BASE_APPLICANT_FIELDS, REQUIRED_CONSENTS, Offer

#: an ID number with a valid check digit, for the examples (born 1990-01-01 in Beijing's Dongcheng district)
EXAMPLE_ID = "11010119900101005" + ric.calc_check_digit("11010119900101005" + "0")

APPLICANT_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 50, "description": "Legal name."},
    "id_number": {"type": "string", "pattern": r"^[0-9]{17}[0-9Xx]$", "examples": [EXAMPLE_ID],
                  "description": "Resident ID number (居民身份证号), 18 characters with a valid check digit."},
    "phone": {"type": "string", "pattern": r"^1[3-9][0-9]{9}$", "description": "Mainland mobile number."},
    "monthly_income": ref("PositiveMoneyInput"),
    "monthly_debt_payments": ref("MoneyInput"),
    "employment_years": {"type": "number", "minimum": 0, "maximum": 60},
    "housing": {"type": "string", "enum": ["own", "rent", "free"]},
    "occupation": {"type": "string", "enum": ["unemployed", "unskilled", "skilled", "management"]},
    "dependants": {"type": "integer", "minimum": 0, "maximum": 20},
    "bank_account": ref("BankAccount"),
}

QUOTE_EXAMPLE = {"amount": "5000.00", "term": 6, "method": "equal_installment"}
APPLICATION_EXAMPLE = {
    "external_id": "order-123", "amount": "5000.00", "term": 6, "method": "equal_installment", "purpose": "used_car",
    "applicant": {"name": "张三", "id_number": EXAMPLE_ID, "phone": "13812345678", "monthly_income": "20000.00",
                  "monthly_debt_payments": "1000.00", "employment_years": 5, "housing": "own",
                  "occupation": "skilled", "dependants": 1,
                  "bank_account": {"bank_code": "ICBC", "account_number": "6222020200112233445",
                                   "holder_name": "张三"}},
    "consents": {"credit_bureau_query": {"granted_at": "2026-03-01T10:00:00+08:00", "reference": "consent-881",
                                         "purpose": "loan approval"},
                 "personal_information": {"granted_at": "2026-03-01T10:00:00+08:00", "reference": "consent-882"}}}

REQUEST_SCHEMAS: dict[str, Any] = {
    "QuoteRequest": {**obj({"amount": ref("PositiveMoneyInput"),
                            "term": {"type": "integer", "minimum": 1, "description": "In the product's term unit."},
                            "method": METHOD,
                            "start_date": {**DATE, "description": "Disbursement date; today if absent."}},
                           required=["amount", "term", "method"],
                           description="What to price. The product's own document narrows the term, method and "
                                       "amount to what it sells."), "additionalProperties": False},
    "Consent": {**obj({"granted_at": ref("DateTime"),
                       "reference": {"type": "string", "minLength": 1, "maxLength": 120,
                                     "description": "Where the channel keeps the proof of consent."},
                       "purpose": {"type": "string", "maxLength": 200}}, required=["granted_at", "reference"]),
                "additionalProperties": False},
    "Consents": {**obj({name: ref("Consent") for name in REQUIRED_CONSENTS}), "additionalProperties": False},
    "BankAccount": {**obj({"bank_code": {"type": "string", "pattern": r"^[A-Z0-9]{2,12}$"},
                           "account_number": {"type": "string", "pattern": r"^[0-9]{8,30}$"},
                           "holder_name": {"type": "string", "minLength": 1, "maxLength": 50}}),
                    "additionalProperties": False},
    "Applicant": {**obj(APPLICANT_PROPERTIES, required=list(BASE_APPLICANT_FIELDS),
                        description="The borrower; the product may require more fields."),
                  "additionalProperties": False},
    "Collateral": {**obj({"type": {"type": "string", "minLength": 1},
                          "appraised_value": ref("PositiveMoneyInput"),
                          "description": {"type": "string", "maxLength": 500}}, required=["type", "appraised_value"]),
                   "additionalProperties": False},
    "ApplicationRequest": {**obj({
        "external_id": {"type": "string", "minLength": 1, "maxLength": 120,
                        "description": "The channel's own reference; unique per channel."},
        "amount": ref("PositiveMoneyInput"), "term": {"type": "integer", "minimum": 1}, "method": METHOD,
        "purpose": {"type": "string", "minLength": 1, "maxLength": 40,
                    "description": "What the money is for (consumption, appliances, furniture, renovation, car, "
                                   "used_car, education, training, business, or the Chinese words)."},
        "applicant": ref("Applicant"), "consents": ref("Consents"),
        "collateral": {**ref("Collateral"), "description": "Only for a product that takes collateral."},
    }, required=["amount", "term", "method", "applicant", "consents"],
        description="An application; the product's own document narrows it to what the product sells."),
        "additionalProperties": False},
}


def amount_schema(offer: Offer) -> dict[str, Any]:
    limits = offer.product.amount
    step = limits.step or Decimal("0.01")
    return {"type": "string", "pattern": POSITIVE_MONEY_PATTERN, "examples": [f"{limits.default:.2f}"],
            "description": f"Principal in {offer.currency}: {limits.min} to {limits.max}, {limits.min} plus whole "
                           f"steps of {step}, as a decimal string.",
            "x-minimum": f"{limits.min:.2f}", "x-maximum": f"{limits.max:.2f}", "x-multipleOf": f"{step:.2f}"}


def term_schema(offer: Offer) -> dict[str, Any]:
    return {"type": "integer", "enum": list(offer.terms), "examples": [offer.product.term_default],
            "description": f"Term in {offer.product.term_unit}s."}


def method_schema(offer: Offer) -> dict[str, Any]:
    return {"type": "string", "enum": list(offer.methods), "examples": [offer.product.default_method.value]}


def narrowed(offer: Offer) -> dict[str, Any]:
    """The request schemas of :data:`REQUEST_SCHEMAS`, narrowed to ``offer`` (for its own document)."""
    schemas = deepcopy(REQUEST_SCHEMAS)
    for name in ("QuoteRequest", "ApplicationRequest"):
        properties = schemas[name]["properties"]
        properties.update(amount=amount_schema(offer), term=term_schema(offer), method=method_schema(offer))
        schemas[name]["description"] = f"{schemas[name]['description'].split(';')[0]}; narrowed to {offer.code}."
    schemas["Applicant"]["required"] = list(offer.required_applicant_fields)
    application = schemas["ApplicationRequest"]
    if offer.collateral_types:
        schemas["Collateral"]["properties"]["type"] = {"type": "string", "enum": sorted(offer.collateral_types)}
        if offer.collateral_required:
            application["required"].append("collateral")
    else:
        del application["properties"]["collateral"]
    return schemas



MONEY_IN = ref("MoneyInput")
POSITIVE = ref("PositiveMoneyInput")
#: the bodies of the operations after the application (the same in every document)
FOLLOW_UP_SCHEMAS: dict[str, Any] = {
    "SignatureRequest": {**obj({"signer_name": {"type": "string", "minLength": 1, "maxLength": 50,
                                                "description": "The borrower's name as on the application."},
                                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                           "description": "The `sha256` of the contract the borrower was shown."}}),
                         "additionalProperties": False},
    "ResubmissionRequest": {**obj({
        "comment": {"type": "string", "minLength": 1, "maxLength": 1000,
                    "description": "The channel's answer to the reviewer's comment."},
        "documents": {"type": "array", "minItems": 1, "maxItems": 20, "items": {**obj({
            "type": {"type": "string", "minLength": 1, "maxLength": 40,
                     "description": "What it is: income_proof, bank_statement..."},
            "reference": {"type": "string", "minLength": 1, "maxLength": 200,
                          "description": "Where the channel keeps the document."},
            "description": {"type": "string", "minLength": 1, "maxLength": 500}}, required=["type", "reference"]),
            "additionalProperties": False}},
        "applicant": {**obj({"monthly_income": POSITIVE, "monthly_debt_payments": MONEY_IN,
                             "employment_years": {"type": "number", "minimum": 0, "maximum": 60},
                             "housing": {"type": "string", "enum": ["own", "rent", "free"]},
                             "occupation": {"type": "string",
                                            "enum": ["unemployed", "unskilled", "skilled", "management"]},
                             "dependants": {"type": "integer", "minimum": 0, "maximum": 20}}, required=[],
                            description="Corrected finances; income and debt payments come together (the DTI is "
                                        "recomputed)."),
                      "additionalProperties": False, "minProperties": 1,
                      "dependentRequired": {"monthly_income": ["monthly_debt_payments"],
                                            "monthly_debt_payments": ["monthly_income"]}},
    }, required=[], description="The answer to a return for supplement: at least one of comment, documents, "
                                "applicant. Identity, the loan asked for and the bank account cannot change here."),
        "additionalProperties": False, "minProperties": 1},
    "RepaymentRequest": {**obj({"amount": POSITIVE, "paid_on": {**DATE, "description": "Today if absent."},
                                "reference": {"type": "string", "maxLength": 120}}, required=["amount"]),
                         "additionalProperties": False},
    "PrepaymentRequest": {**obj({"amount": {**POSITIVE, "description": "Principal to prepay; all when absent."},
                                 "on": {**DATE, "description": "Today if absent."},
                                 "mode": {"type": "string", "enum": ["keep_term", "keep_installment"]}},
                                required=[], description="Without `amount`, the whole loan is prepaid."),
                          "additionalProperties": False},
    "WebhookRequest": {**obj({"url": {"type": "string", "format": "uri", "maxLength": 500,
                                      "description": "https://, its host resolving to public addresses only "
                                                     "(checked again at every delivery)."},
                              "events": {"type": "array", "minItems": 1, "items": {
                                  "type": "string", "minLength": 1, "maxLength": 80,
                                  "description": "An event type or a pattern: application.*, loan.overdue, *."}}},
                             required=["url"]), "additionalProperties": False},
}


#: what the examples' application is answered with (the README's walk-through: grade A, the 8% band)
APPLICATION_ANSWER_EXAMPLE = {
    "id": 1, "external_id": "order-123", "product_code": "CONSUMER_INSTALLMENT", "product_version": 1,
    "state": "approved", "review_step": None, "amount": "5000.00", "term": 6, "method": "equal_installment",
    "score": 615, "grade": "A", "reason_codes": ["SC01"],
    "decision": {"outcome": "approved", "reasons": [], "approved_amount": "5000.00", "annual_rate": "0.0800",
                 "apr": "0.1206", "term": 6, "method": "equal_installment", "first_installment": "862.89",
                 "total_payable": "5177.34", "offer_expires_at": "2026-11-30T18:00:00+08:00"},
    "loan_id": None, "created_at": "2026-11-23T18:00:00+08:00", "decided_at": "2026-11-23T18:00:00+08:00",
    "links": {"self": "/api/v1/applications/1", "acceptance": "/api/v1/applications/1/acceptance"}}
REPAYMENT_ANSWER_EXAMPLE = {
    "id": 7, "loan_id": 1, "amount": "862.89", "paid_on": "2026-12-23", "state": "posted",
    "allocated": {"lines": [{"period": 1, "component": "fee", "amount": "10.00"},
                            {"period": 1, "component": "interest", "amount": "33.33"},
                            {"period": 1, "component": "principal", "amount": "819.56"}], "excess": "0.00"},
    "loan_state": "active"}
