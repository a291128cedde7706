"""Every operation of the channel API, registered once (:func:`api.openapi.registry.register`).

Operation ids are stable: the same in the whole document and in each product's, whatever is published or
paused. A product's operations take the product's code as a path parameter; a paused product answers its
operations with a 409 ``product-paused`` rather than disappearing from the document.
"""

from __future__ import annotations

from typing import Any

from api import openapi_credit_lines, openapi_customers, openapi_debits
from api.openapi.registry import PRODUCT, Operation, Success, register
from api.openapi.requests import (
    APPLICATION_ANSWER_EXAMPLE,
    APPLICATION_EXAMPLE,
    EXAMPLE_ID,
    QUOTE_EXAMPLE,
    REPAYMENT_ANSWER_EXAMPLE,
)
from api.openapi.schemas import path_id

PAGE = ({"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"})
CODE = {"$ref": "#/components/parameters/code"}


APPLICATION_ID = path_id("application_id", "application")
LOAN_ID = path_id("loan_id", "loan")
SUBSCRIPTION_ID = path_id("subscription_id", "webhook subscription")
PARAMETERS: dict[str, Any] = {
    "page": {"name": "page", "in": "query", "required": False, "description": "The page, from 1.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1}},
    "per_page": {"name": "per_page", "in": "query", "required": False, "description": "Items a page, at most 100.",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    "code": {"name": "code", "in": "path", "required": True, "description": "The product's code.",
             "schema": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,39}$"}, "example": "CONSUMER_INSTALLMENT"},
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": True,
                       "description": "A unique key per operation (a UUID). A replay returns the first response "
                                      "with `Idempotent-Replayed: true`; the same key with another request gets "
                                      "409.", "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
}
#: what moving money on a loan can be refused with: its state, or a rule (a date, the overpayment bound)
SERVICING = ("not-found", "wrong-state", "refused", "damaged-record")
#: the states of an application a follow-up operation may find it in when it is refused with ``wrong-state``
STATEFUL = ("not-found", "wrong-state", "damaged-record")


def _document(operation_id: str, path: str, summary: str, parameters: tuple[dict[str, Any], ...] = (),
              problems: tuple[str, ...] = ()) -> Operation:
    return Operation(operation_id, "get", path, summary,
                     "An OpenAPI 3.1 document; no key needed. `ETag` and `Last-Modified` change whenever it "
                     "does (send `If-None-Match` to be told 304), and so does `info.version`.", "documents",
                     Success("200", "The document.", "OpenApiDocument", headers=("ETag", "Last-Modified")),
                     problems=("internal-server-error", "database-unavailable", *problems), parameters=parameters,
                     public=True)


def register_all() -> None:
    """Register the operations of this module (called once, when the package is imported)."""
    for operation in (
        _document("openapi", "/openapi.json", "The whole API as published now"),
        _document("productOpenapi", "/products/{code}/openapi.json",
                  "One product's document: the same operations, its request schemas narrowed", (CODE,),
                  ("not-found", "product-paused")),
        Operation("listProducts", "get", "/products", "Published products this key may sell",
                  "The catalogue in brief, by code; `GET /products/{code}` for everything a form needs.", "products",
                  Success("200", "A page of products.", "ProductList"), parameters=PAGE,
                  problems=("invalid-request",)),
        Operation("getProduct", "get", "/products/{code}", "A product's limits and terms",
                  "Amounts, terms, methods, rates, fees, prepayment, collateral and the applicant data it needs.",
                  "products", Success("200", "The product.", "ProductDetail"), parameters=(CODE,), problems=PRODUCT),
        Operation("createQuote", "post", "/products/{code}/quotes", "Price an amount, term and method",
                  "The schedule, APR (年化利率, IRR basis, every fee included) and total cost at the product's "
                  "default rate. Nothing is stored, no Idempotency-Key is needed.", "products",
                  Success("200", "The priced request.", "Quote"), parameters=(CODE,), problems=PRODUCT,
                  body="QuoteRequest", body_example=QUOTE_EXAMPLE),
        Operation("createApplication", "post", "/products/{code}/applications", "Apply for a loan",
                  "Checked whole (every bad field listed), then decided in one transaction: eligibility, the credit "
                  "bureau, scoring and the approval chain. The answer is `approved` (an offer to accept), `rejected` "
                  "(with reasons) or `under_review`. A rejection is a 201 too. The applicant's ID number must carry "
                  f"a valid check digit ({EXAMPLE_ID}).", "applications",
                  Success("201", "The application and its decision.", "Application", headers=("Location",),
                          example=APPLICATION_ANSWER_EXAMPLE),
                  parameters=(CODE,), problems=(*PRODUCT, "damaged-record"), body="ApplicationRequest",
                  body_example=APPLICATION_EXAMPLE, idempotent=True),
        Operation("listApplications", "get", "/applications", "This channel's applications",
                  "Newest first.", "applications", Success("200", "A page of applications.", "ApplicationList"),
                  parameters=PAGE, problems=("invalid-request", "damaged-record")),
        Operation("getApplication", "get", "/applications/{application_id}", "An application",
                  "Its state, decision, the approved offer, `loan_id` once disbursed, and links to what comes next.",
                  "applications", Success("200", "The application.", "Application"), parameters=(APPLICATION_ID,),
                  problems=("not-found", "damaged-record")),
        Operation("acceptOffer", "post", "/applications/{application_id}/acceptance", "Accept the approved offer",
                  "approved -> accepted, before `decision.offer_expires_at`; accepting again changes nothing. Then "
                  "fetch the contract.", "applications", Success("200", "The accepted application.", "Application"),
                  parameters=(APPLICATION_ID,), problems=STATEFUL, idempotent=True),
        Operation("resubmitApplication", "post", "/applications/{application_id}/resubmission",
                  "Answer a return for supplement (退回补件)",
                  "returned -> under_review, on the step it came from, with the data the reviewer asked for.",
                  "applications", Success("200", "The application, under review again.", "Application"),
                  parameters=(APPLICATION_ID,), problems=STATEFUL, body="ResubmissionRequest", idempotent=True),
        Operation("getContract", "get", "/applications/{application_id}/contract", "The contract to show the borrower",
                  "Rendered once by the product's e-signature plugin after acceptance, then the same document every "
                  "time: read `sha256` here and send it back to sign. `?format=pdf` answers the PDF itself.",
                  "applications", Success("200", "The contract and its hash.", "Contract",
                                          media={"application/pdf": "The contract (with ?format=pdf)."}),
                  parameters=(APPLICATION_ID, {"name": "format", "in": "query", "required": False,
                                               "description": "`pdf` for the document itself.",
                                               "schema": {"type": "string", "enum": ["json", "pdf"]}}),
                  problems=(*STATEFUL, "invalid-request", "refused", "plugin-unavailable")),
        Operation("signContract", "post", "/applications/{application_id}/contract/signature",
                  "The borrower signs the contract they were shown",
                  "The hash must be the contract's and the name the borrower's; the lender countersigns and both "
                  "signatures are verified: accepted -> contract_signed. Signing again with the same hash and name "
                  "answers the signed contract; a different one is refused (422 contract-mismatch).", "applications",
                  Success("200", "The signed contract and its evidence.", "Contract"), parameters=(APPLICATION_ID,),
                  problems=(*STATEFUL, "contract-mismatch", "refused", "plugin-unavailable"), body="SignatureRequest",
                  body_example={"signer_name": "张三", "sha256": "9f2c" + "0" * 60}, idempotent=True),
        Operation("disburse", "post", "/applications/{application_id}/disbursement", "Pay the loan out",
                  "Sends the payout to the product's payment channel: contract_signed (or disbursement_failed) -> "
                  "disbursing. The channel's callback completes it: the loan is booked (disbursed, `loan_id` set).",
                  "applications", Success("202", "Sent to the payment channel.", "Disbursement"),
                  parameters=(APPLICATION_ID,), problems=(*STATEFUL, "refused", "plugin-unavailable"),
                  idempotent=True),
        Operation("paymentCallback", "post", "/callbacks/payments/{plugin}",
                  "The payment channel's signed settlement notice",
                  "For the payment channel, not for sales channels: no API key, the plugin verifies its signature.",
                  "callbacks", Success("200", "Received.", "PaymentCallbackReceipt"),
                  parameters=({"name": "plugin", "in": "path", "required": True, "schema": {"type": "string"}},),
                  problems=("bad-signature", "not-found", "wrong-state", "invalid-request", "refused",
                            "plugin-unavailable", "internal-server-error", "damaged-record", "database-unavailable"),
                  body="PaymentCallback", public=True, channel=False),
    ):
        register(operation)
    _register_servicing()
    for extension in (openapi_debits, openapi_credit_lines, openapi_customers):
        extension.register_operations()


def _register_servicing() -> None:
    loan = (LOAN_ID,)
    for operation in (
        Operation("listLoans", "get", "/loans", "This channel's loans", "Newest first.", "loans",
                  Success("200", "A page of loans.", "LoanList"), parameters=PAGE, problems=("invalid-request",)),
        Operation("getLoan", "get", "/loans/{loan_id}", "A loan", "Its state, terms and delinquency.", "loans",
                  Success("200", "The loan.", "Loan"), parameters=loan, problems=("not-found",)),
        Operation("getSchedule", "get", "/loans/{loan_id}/schedule", "The loan's installments",
                  "Each installment's total, what was paid of it and what is still owed.", "loans",
                  Success("200", "The schedule.", "LoanSchedule"), parameters=loan, problems=("not-found",)),
        Operation("getBalances", "get", "/loans/{loan_id}/balances", "What the borrower owes now",
                  "From the ledger; `overpayment` is money held until the next due dates.", "loans",
                  Success("200", "The balances.", "Balances"), parameters=loan, problems=("not-found",)),
        Operation("listRepayments", "get", "/loans/{loan_id}/repayments", "The loan's repayments",
                  "Newest first, posted and reversed, with where each went.", "loans",
                  Success("200", "A page of repayments.", "RepaymentList"), parameters=(*loan, *PAGE),
                  problems=("not-found", "invalid-request")),
        Operation("repay", "post", "/loans/{loan_id}/repayments", "Record a repayment",
                  "Allocated to what is due now by the product's order; money before a due date (or beyond what is "
                  "due) is held as overpayment and applied at the close of each due date (`allocated.excess`). "
                  "To pay principal off early, prepay.", "loans",
                  Success("201", "Posted.", "Repayment", example=REPAYMENT_ANSWER_EXAMPLE),
                  parameters=loan, problems=SERVICING, body="RepaymentRequest",
                  body_example={"amount": "862.89"}, idempotent=True),
        Operation("quotePrepayment", "post", "/loans/{loan_id}/prepayment-quotes",
                  "What prepaying all or part would cost on a date", "Nothing is stored.", "loans",
                  Success("200", "The quote.", "PrepaymentQuote"), parameters=loan,
                  problems=SERVICING, body="PrepaymentRequest",
                  body_example={"amount": "2000.00", "mode": "keep_term"}),
        Operation("prepay", "post", "/loans/{loan_id}/prepayments", "Prepay all or part of the loan",
                  "Pays the quoted total on `on` (today by default).", "loans", Success("201", "Posted.", "Prepayment"),
                  parameters=loan, problems=SERVICING, body="PrepaymentRequest", body_example={}, idempotent=True),
        Operation("listWebhooks", "get", "/webhooks", "This channel's webhook subscriptions", "Oldest first.",
                  "webhooks", Success("200", "A page of subscriptions.", "WebhookList"), parameters=PAGE,
                  problems=("invalid-request",)),
        Operation("subscribe", "post", "/webhooks", "Receive signed events at a URL",
                  "The events are described under `webhooks`; the answer carries the signing secret, this once.",
                  "webhooks", Success("201", "Subscribed.", "Webhook", headers=("Location",)),
                  body="WebhookRequest", body_example={"url": "https://partner.example/hooks",
                                                       "events": ["application.*", "loan.overdue"]},
                  idempotent=True),
        Operation("unsubscribe", "delete", "/webhooks/{subscription_id}", "Stop a subscription",
                  "Nothing more is sent.",
                  "webhooks", Success("204", "Stopped."), parameters=(SUBSCRIPTION_ID,), problems=("not-found",)),
        Operation("listWebhookEvents", "get", "/webhooks/{subscription_id}/events", "A subscription's events",
                  "Each event and how its delivery went.", "webhooks",
                  Success("200", "A page of events.", "WebhookEventList"), parameters=(SUBSCRIPTION_ID, *PAGE),
                  problems=("not-found", "invalid-request")),
        Operation("listPlugins", "get", "/plugins", "Installed plugins",
                  "Name, version, source and hooks, as `loanfactory plugins`.", "plugins",
                  Success("200", "The plugins.", "PluginList"),
                  parameters=({"name": "hook", "in": "query", "required": False, "schema": {"type": "string"},
                               "description": "Only the plugins implementing this hook."},),
                  problems=("invalid-request",)),
    ):
        register(operation)


TAGS = [{"name": "documents", "description": "The OpenAPI documents themselves."},
        {"name": "products", "description": "The catalogue and quotes."},
        {"name": "applications", "description": "From application to payout: decision, acceptance, contract."},
        {"name": "loans", "description": "Booked loans: schedule, balances, repayments, prepayments."},
        {"name": "webhooks", "description": "Subscriptions to signed event deliveries."},
        {"name": "credit_lines", "description": "Credit lines: apply, take, draw down, list the drawdowns."},
        {"name": "customers", "description": "Individuals and enterprises, their relations and documents."},
        {"name": "plugins", "description": "What is installed."},
        {"name": "callbacks", "description": "For the payment channel, not for sales channels."}]
