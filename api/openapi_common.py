"""The parts of the OpenAPI document that do not depend on a product: shared schemas and the
application, loan, callback and webhook operations."""

from __future__ import annotations

from typing import Any

from core.money import MAX_MONEY_NUMBER, MONEY_PATTERN

MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "Yuan, two decimals, as a string."}
#: how a prepayment quote nets the overpayment suspense held for the loan (core.loans.prepayment)
PREPAYMENT_NETTING = {
    "held": {**MONEY, "description": "Overpayment suspense held for the loan."},
    "from_held": {**MONEY, "description": "The part of `total` the suspense pays."},
    "payable": {**MONEY, "description": "What the borrower still pays: `total` less `from_held`."},
    "held_after": {**MONEY, "description": "Suspense still held after paying `payable`."},
}
RATE = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        "description": "A fraction as a decimal string (0.12 = 12%)."}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}


MAX_MONEY = int(MAX_MONEY_NUMBER)

#: the largest id a path accepts (a 32-bit integer key); larger ones are simply not found
MAX_ID = 2**31 - 1


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


PROBLEM_RESPONSES: dict[str, Any] = {
    "400": _problem("Malformed request (the body is not JSON)."),
    "401": _problem("Missing or unknown API key."),
    "403": _problem("This key may not sell the product."),
    "404": _problem("No such resource for this channel."),
    "405": _problem("Method not allowed."),
    "409": _problem("Conflict: wrong state, or an Idempotency-Key reused with another request."),
    "415": _problem("The body is not application/json."),
    "422": _problem("Invalid fields, each named by a JSON pointer in `errors`."),
    "429": _problem("Rate limit of the API key exceeded."),
}

IDEMPOTENCY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "A unique key per operation (a UUID). A replay returns the first response; the same key with "
                   "a different request gets 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

PAGE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]


def _id_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _list_of(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "page"],
            "properties": {"items": {"type": "array", "items": ref(item)}, "page": ref("Page")}}


COMMON_SCHEMAS: dict[str, Any] = {
    "Money": MONEY,
    "MoneyInput": {"anyOf": [{"type": "number", "minimum": 0, "maximum": MAX_MONEY, "multipleOf": 0.01},
                             {"type": "string", "pattern": MONEY_PATTERN}],
                   "description": "Yuan: a JSON number (read exactly) or a decimal string of ASCII digits, at most "
                                  "2 decimals; no sign, spaces, exponent or separators."},
    "PositiveMoneyInput": {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": MAX_MONEY,
                                      "multipleOf": 0.01},
                                     {"type": "string", "pattern": r"^(?!0+(\.0+)?$)" + MONEY_PATTERN[1:]}],
                           "description": "Yuan, more than zero: a JSON number (read exactly) or a decimal string "
                                          "of ASCII digits; no sign, spaces, exponent or separators."},
    "Problem": {
        "type": "object", "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["detail"],
                "properties": {"pointer": {"type": "string", "description": "JSON pointer into the request body."},
                               "header": {"type": "string", "description": "The request header at fault."},
                               "parameter": {"type": "string", "description": "The query parameter at fault."},
                               "detail": {"type": "string"}}}},
        },
    },
    "Page": {"type": "object", "required": ["page", "per_page", "total"],
             "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
                            "next": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]}}},
    "Consent": {"type": "object", "additionalProperties": False, "required": ["granted_at", "reference"],
                "properties": {"granted_at": DATETIME,
                               "reference": {"type": "string", "minLength": 1, "maxLength": 120,
                                             "description": "Where the channel keeps the proof of consent."},
                               "purpose": {"type": "string", "maxLength": 200}}},
    "BankAccount": {"type": "object", "additionalProperties": False,
                    "required": ["bank_code", "account_number", "holder_name"],
                    "properties": {"bank_code": {"type": "string", "pattern": r"^[A-Z0-9]{2,12}$"},
                                   "account_number": {"type": "string", "pattern": r"^[0-9]{8,30}$"},
                                   "holder_name": {"type": "string", "minLength": 1, "maxLength": 50}}},
    "Installment": {"type": "object", "required": ["period", "due_date", "principal", "interest", "fee", "total"],
                    "properties": {"period": {"type": "integer"}, "due_date": DATE, "principal": MONEY,
                                   "interest": MONEY, "fee": MONEY, "total": MONEY, "remaining_principal": MONEY}},
    "Quote": {"type": "object",
              "required": ["product_code", "amount", "term", "method", "annual_rate", "apr", "total_interest",
                           "total_fees", "total_cost", "total_payable", "installments"],
              "properties": {"product_code": {"type": "string"}, "product_version": {"type": "integer"},
                             "amount": MONEY, "term": {"type": "integer"}, "term_unit": {"type": "string"},
                             "method": {"type": "string"}, "annual_rate": RATE, "apr": RATE,
                             "effective_annual_rate": RATE, "start_date": DATE, "maturity_date": DATE,
                             "upfront_fee": MONEY, "total_interest": MONEY, "total_fees": MONEY,
                             "total_cost": MONEY, "total_payable": MONEY, "currency": {"type": "string"},
                             "installments": {"type": "array", "items": ref("Installment")}}},
    "ProductSummary": {"type": "object", "required": ["code", "version", "name"],
                       "properties": {"code": {"type": "string"}, "version": {"type": "integer"},
                                      "name": {"type": "object"}, "currency": {"type": "string"}}},
    "ProductList": _list_of("ProductSummary"),
    "ProductDetail": {"type": "object", "required": ["code", "version", "amount", "term", "methods"],
                      "properties": {"code": {"type": "string"}, "version": {"type": "integer"},
                                     "amount": {"type": "object"}, "term": {"type": "object"},
                                     "methods": {"type": "array", "items": {"type": "string"}},
                                     "required_applicant_fields": {"type": "array", "items": {"type": "string"}}}},
}

APPLICATION_SCHEMAS: dict[str, Any] = {
    "Application": {
        "type": "object", "required": ["id", "product_code", "product_version", "state", "amount", "term", "method"],
        "properties": {
            "id": {"type": "integer"}, "external_id": {"type": ["string", "null"]},
            "product_code": {"type": "string"}, "product_version": {"type": "integer"},
            "state": {"type": "string"}, "review_step": {"type": ["string", "null"]},
            "amount": MONEY, "term": {"type": "integer"}, "method": {"type": "string"},
            "score": {"type": ["integer", "null"]}, "grade": {"type": ["string", "null"]},
            "reason_codes": {"type": "array", "items": {"type": "string"}},
            "decision": {"type": ["object", "null"]}, "loan_id": {"type": ["integer", "null"]},
            "created_at": NULLABLE_DATETIME, "decided_at": NULLABLE_DATETIME, "links": {"type": "object"},
        },
    },
    "ApplicationList": _list_of("Application"),
    "Contract": {"type": "object", "required": ["application_id", "contract_id", "sha256", "signed"],
                 "properties": {"application_id": {"type": "integer"}, "contract_id": {"type": "string"},
                                "sha256": {"type": "string"}, "media_type": {"type": "string"},
                                "content_base64": {"type": "string"}, "signed": {"type": "boolean"},
                                "signatures": {"type": "array", "items": {"type": "object"}}}},
    "SignatureRequest": {"type": "object", "additionalProperties": False, "required": ["signer_name", "sha256"],
                         "properties": {"signer_name": {"type": "string", "minLength": 1, "maxLength": 50},
                                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                                   "description": "The hash of the contract the borrower saw."}}},
    "Disbursement": {"type": "object", "required": ["application_id", "state", "request_id", "status"],
                     "properties": {"application_id": {"type": "integer"}, "state": {"type": "string"},
                                    "request_id": {"type": "string"}, "status": {"type": "string"},
                                    "failure": {"type": ["string", "null"]},
                                    "loan_id": {"type": ["integer", "null"]}}},
    "Loan": {"type": "object", "required": ["id", "product_code", "state", "principal", "annual_rate"],
             "properties": {"id": {"type": "integer"}, "application_id": {"type": ["integer", "null"]},
                            "product_code": {"type": "string"}, "product_version": {"type": "integer"},
                            "state": {"type": "string"}, "principal": MONEY, "annual_rate": RATE,
                            "method": {"type": "string"}, "disbursed_on": DATE, "maturity_date": DATE,
                            "closed_on": NULLABLE_DATE, "days_past_due": {"type": "integer"},
                            "bucket": {"type": "string"}, "five_tier": {"type": "string"},
                            "links": {"type": "object"}}},
    "LoanList": _list_of("Loan"),
    "LoanSchedule": {"type": "object", "required": ["loan_id", "installments"],
                     "properties": {"loan_id": {"type": "integer"}, "installments": {"type": "array", "items": {
                         "type": "object", "required": ["period", "due_date", "status"],
                         "properties": {"period": {"type": "integer"}, "due_date": DATE, "status": {"type": "string"},
                                        "principal": MONEY, "interest": MONEY, "fee": MONEY, "penalty": MONEY,
                                        "paid_principal": MONEY, "paid_interest": MONEY, "paid_fee": MONEY,
                                        "paid_penalty": MONEY}}}}},
    "Balances": {"type": "object", "required": ["loan_id", "principal", "interest", "fee", "penalty", "total"],
                 "properties": {"loan_id": {"type": "integer"}, "principal": MONEY, "interest": MONEY,
                                "fee": MONEY, "penalty": MONEY, "total": MONEY, "overpayment": MONEY}},
    "RepaymentRequest": {"type": "object", "additionalProperties": False, "required": ["amount"],
                         "properties": {"amount": ref("PositiveMoneyInput"), "paid_on": DATE,
                                        "reference": {"type": "string", "maxLength": 120}}},
    "Repayment": {"type": "object", "required": ["id", "loan_id", "amount", "paid_on", "loan_state"],
                  "properties": {"id": {"type": "integer"}, "loan_id": {"type": "integer"}, "amount": MONEY,
                                 "paid_on": DATE, "kind": {"type": "string"}, "allocated": {"type": "object"},
                                 "loan_state": {"type": "string"}}},
    "PrepaymentRequest": {"type": "object", "additionalProperties": False,
                          "properties": {"amount": ref("PositiveMoneyInput"), "on": DATE,
                                         "mode": {"type": "string", "enum": ["keep_term", "keep_installment"]}},
                          "description": "Without `amount` (principal to prepay), the whole loan is prepaid."},
    "PrepaymentQuote": {"type": "object", "required": ["loan_id", "on", "principal", "total", "full"],
                        "properties": {"loan_id": {"type": "integer"}, "on": DATE, "principal": MONEY,
                                       "broken_interest": MONEY, "fee": MONEY, "owed_now": MONEY, "total": MONEY,
                                       **PREPAYMENT_NETTING,
                                       "full": {"type": "boolean"}}},
    "Prepayment": {"type": "object", "required": ["loan_id", "total", "loan_state"],
                   "properties": {"loan_id": {"type": "integer"}, "on": DATE, "principal": MONEY,
                                  "broken_interest": MONEY, "fee": MONEY, "owed_now": MONEY, "total": MONEY,
                                       **PREPAYMENT_NETTING,
                                  "full": {"type": "boolean"}, "event_id": {"type": "integer"},
                                  "loan_state": {"type": "string"}}},
    "ResubmissionRequest": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "description": "The answer to a return for supplement: at least one of comment, documents, applicant. "
                       "Identity, the loan asked for and the bank account cannot change here.",
        "properties": {
            "comment": {"type": "string", "minLength": 1, "maxLength": 1000,
                        "description": "The channel's answer to the reviewer's comment."},
            "documents": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                "type": "object", "additionalProperties": False, "required": ["type", "reference"],
                "properties": {"type": {"type": "string", "minLength": 1, "maxLength": 40,
                                        "description": "What it is: income_proof, bank_statement..."},
                               "reference": {"type": "string", "minLength": 1, "maxLength": 200,
                                             "description": "Where the channel keeps the document."},
                               "description": {"type": "string", "minLength": 1, "maxLength": 500}}}},
            "applicant": {
                "type": "object", "additionalProperties": False, "minProperties": 1,
                "description": "Corrected finances; income and debt payments come together (the DTI is "
                               "recomputed).",
                "dependentRequired": {"monthly_income": ["monthly_debt_payments"],
                                      "monthly_debt_payments": ["monthly_income"]},
                "properties": {"monthly_income": ref("PositiveMoneyInput"),
                               "monthly_debt_payments": ref("MoneyInput"),
                               "employment_years": {"type": "number", "minimum": 0, "maximum": 60},
                               "housing": {"type": "string", "enum": ["own", "rent", "free"]},
                               "occupation": {"type": "string",
                                              "enum": ["unemployed", "unskilled", "skilled", "management"]},
                               "dependants": {"type": "integer", "minimum": 0, "maximum": 20}}},
        },
    },
    "WebhookRequest": {"type": "object", "additionalProperties": False, "required": ["url"],
                       "properties": {"url": {"type": "string", "format": "uri", "maxLength": 500,
                                              "description": "https://, its host resolving to public addresses "
                                                             "only (checked again at every delivery)."},
                                      "events": {"type": "array", "minItems": 1,
                                                 "items": {"type": "string", "minLength": 1, "maxLength": 80}}}},
    "Webhook": {"type": "object", "required": ["id", "url", "events", "active"],
                "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                               "events": {"type": "array", "items": {"type": "string"}},
                               "active": {"type": "boolean"}, "created_at": NULLABLE_DATETIME,
                               "secret": {"type": "string", "description": "Shown once, on creation."}}},
    "WebhookList": _list_of("Webhook"),
    "WebhookEvent": {"type": "object", "required": ["id", "type", "status", "attempts"],
                     "properties": {"id": {"type": "integer"}, "type": {"type": "string"},
                                    "status": {"type": "string"}, "attempts": {"type": "integer"},
                                    "last_error": {"type": ["string", "null"], "description": (
                                        "The last failed attempt's status: http_<status> (the receiver's "
                                        "answer, redirects included), no_answer or address_refused.")},
                                    "data": {"type": "object"},
                                    "delivered_at": NULLABLE_DATETIME}},
    "WebhookEventList": _list_of("WebhookEvent"),
    "PluginList": {"type": "object", "required": ["plugins", "families"], "properties": {
        "plugins": {"type": "array", "items": {
            "type": "object", "required": ["name", "version", "source", "hooks", "enabled"],
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "source": {"type": "string"},
                           "module": {"type": "string"}, "hooks": {"type": "array", "items": {"type": "string"}},
                           "enabled": {"type": "boolean"}}}},
        "families": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}},
}


def _op(operation_id: str, summary: str, response: tuple[str, str, str], *, body: str | None = None,
        idempotent: bool = False, params: list[dict[str, Any]] | None = None, tag: str = "servicing",
        security: list[Any] | None = None) -> dict[str, Any]:
    status, schema, description = response
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag],
                                 "parameters": list(params or []),
                                 "responses": {status: json_response(schema, description) if schema
                                               else {"description": description}, **PROBLEM_RESPONSES}}
    if idempotent:
        operation["parameters"].append(IDEMPOTENCY_HEADER)
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if security is not None:
        operation["security"] = security
    return operation


APP_ID = _id_parameter("application_id")
LOAN_ID = _id_parameter("loan_id")
SUBSCRIPTION_ID = _id_parameter("subscription_id")

COMMON_PATHS: dict[str, Any] = {
    "/products": {"get": _op("listProducts", "Published products this key may sell",
                             ("200", "ProductList", "A page of products."), params=PAGE_PARAMETERS, tag="products")},
    "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "tags": ["products"],
                              "security": [], "responses": {"200": {"description": "OpenAPI 3.1", "content": {
                                  "application/json": {"schema": {"type": "object"}}}}}}},
    "/applications": {"get": _op("listApplications", "This channel's applications",
                                 ("200", "ApplicationList", "A page of applications."), params=PAGE_PARAMETERS,
                                 tag="applications")},
    "/applications/{application_id}": {"get": _op("getApplication", "An application's state and decision",
                                                  ("200", "Application", "The application."), params=[APP_ID],
                                                  tag="applications")},
    "/applications/{application_id}/acceptance": {"post": _op(
        "acceptOffer", "Accept the approved offer", ("200", "Application", "The accepted application."),
        params=[APP_ID], idempotent=True, tag="applications")},
    "/applications/{application_id}/resubmission": {"post": _op(
        "resubmitApplication", "Answer a return for supplement (退回补件): back to the reviewer with the data",
        ("200", "Application", "The application, under review again."), body="ResubmissionRequest",
        params=[APP_ID], idempotent=True, tag="applications")},
    "/applications/{application_id}/contract": {"get": _op(
        "getContract", "The contract to show the borrower (rendered by the e-signature plugin)",
        ("200", "Contract", "The contract document and its hash."), params=[APP_ID], tag="applications")},
    "/applications/{application_id}/contract/signature": {"post": _op(
        "signContract", "The borrower signs the contract they were shown",
        ("200", "Contract", "The signed contract and its evidence."), body="SignatureRequest", params=[APP_ID],
        idempotent=True, tag="applications")},
    "/applications/{application_id}/disbursement": {"post": _op(
        "disburse", "Pay the loan out through the product's payment channel (asynchronous)",
        ("202", "Disbursement", "Sent to the payment channel; the callback completes it."), params=[APP_ID],
        idempotent=True, tag="applications")},
    "/callbacks/payments/{plugin}": {"post": {
        "operationId": "paymentCallback", "summary": "The payment channel's signed settlement callback",
        "tags": ["callbacks"], "security": [],
        "parameters": [{"name": "plugin", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "Accepted.", "content": {"application/json": {
            "schema": {"type": "object"}}}}, **PROBLEM_RESPONSES}}},
    "/loans": {"get": _op("listLoans", "This channel's loans", ("200", "LoanList", "A page of loans."),
                          params=PAGE_PARAMETERS)},
    "/loans/{loan_id}": {"get": _op("getLoan", "A loan", ("200", "Loan", "The loan."), params=[LOAN_ID])},
    "/loans/{loan_id}/schedule": {"get": _op("getSchedule", "The loan's installments and what was paid",
                                             ("200", "LoanSchedule", "The schedule."), params=[LOAN_ID])},
    "/loans/{loan_id}/balances": {"get": _op("getBalances", "What the borrower owes now, from the ledger",
                                             ("200", "Balances", "The balances."), params=[LOAN_ID])},
    "/loans/{loan_id}/repayments": {"post": _op(
        "repay", "Record a repayment (allocated by the product's order)", ("201", "Repayment", "Posted."),
        body="RepaymentRequest", params=[LOAN_ID], idempotent=True)},
    "/loans/{loan_id}/prepayment-quotes": {"post": _op(
        "quotePrepayment", "What prepaying (all or part) would cost on a date",
        ("200", "PrepaymentQuote", "The quote."), body="PrepaymentRequest", params=[LOAN_ID])},
    "/loans/{loan_id}/prepayments": {"post": _op(
        "prepay", "Prepay all or part of the loan", ("201", "Prepayment", "Posted."), body="PrepaymentRequest",
        params=[LOAN_ID], idempotent=True)},
    "/webhooks": {
        "get": _op("listWebhooks", "This channel's webhook subscriptions", ("200", "WebhookList", "A page."),
                   params=PAGE_PARAMETERS, tag="webhooks"),
        "post": _op("subscribe", "Receive HMAC-signed events at a URL", ("201", "Webhook", "Subscribed."),
                    body="WebhookRequest", idempotent=True, tag="webhooks"),
    },
    "/plugins": {"get": _op("listPlugins", "Installed plugins: name, version, source and hooks",
                            ("200", "PluginList", "The plugins."), tag="plugins",
                            params=[{"name": "hook", "in": "query", "required": False, "schema": {"type": "string"},
                                     "description": "Only the plugins implementing this hook."}])},
    "/webhooks/{subscription_id}": {"delete": _op("unsubscribe", "Stop a subscription",
                                                  ("204", "", "Stopped."), params=[SUBSCRIPTION_ID], tag="webhooks")},
    "/webhooks/{subscription_id}/events": {"get": _op(
        "listWebhookEvents", "Events of a subscription and their delivery", ("200", "WebhookEventList", "A page."),
        params=[SUBSCRIPTION_ID, *PAGE_PARAMETERS], tag="webhooks")},
}
