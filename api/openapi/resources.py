"""The component schemas of applications, contracts, payouts, loans, servicing, webhooks and plugins."""

from __future__ import annotations

from typing import Any

from api.openapi.schemas import (
    DATE,
    DATETIME,
    EVENT_MACHINES,
    EVENT_TYPES,
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
    ref,
)
from core.loans.models import FiveTier, InstallmentStatus
from core.portfolio.measures import BUCKETS
from core.states import APPLICATION_STATES, LOAN_STATES

DECISION = obj({
    "outcome": enum(["approved", "rejected", "manual_review", "returned", "expired"],
                    "What the pipeline decided last (the application's `state` is the authority)."),
    "reasons": {"type": "array", "items": STRING, "description": "Why it was rejected (reason codes)."},
    "errors": {"type": "array", "items": obj({"stage": STRING, "error": STRING}),
               "description": "Plugins that failed: the application waits for a person instead."},
    "task_id": nullable(INTEGER), "step": nullable(STRING),
    "bureau": obj({"report_id": STRING, "bureau": STRING, "blacklists": {"type": "array", "items": STRING}}),
    "model_version": STRING,
    "returns": {"type": "array", "items": obj({
        "comment": STRING, "returned_at": DATETIME, "resubmit_by": DATETIME, "state": STRING,
        "resubmitted_at": nullable(DATETIME)})},
    "approved_amount": MONEY, "annual_rate": RATE, "apr": RATE, "term": INTEGER, "method": METHOD,
    "first_installment": MONEY, "total_payable": MONEY,
    "missing_documents": {"type": "array", "items": STRING,
                          "description": "The document kinds the product needs before approval (under_review)."},
    "identity": {"type": "array", "description": "The identity checks (实名认证) the product requires, one entry each "
                                               "as the provider answered: the evidence kept.",
                 "items": obj({"check": enum(["three_element", "bank_card", "liveness"]),
                               "outcome": enum(["match", "mismatch", "unverifiable", "failed"]),
                               "provider": STRING, "reference": STRING, "reason": nullable(STRING),
                               "score": nullable(STRING)}, required=["check", "outcome"])},
    "identity_review": {"type": "array", "items": STRING,
                        "description": "Why a person must look at the identity checks (reason codes)."},
    "approved_limit": {**MONEY, "description": "A credit line's approved limit (with annual_rate and "
                                               "offer_expires_at): take the line before then."},
    "offer_expires_at": {**DATETIME, "description": "Accept before this time."},
    "accepted_at": DATETIME, "accepted_by": STRING,
}, required=[], description="The decision and, once approved, the offer's terms (the approved offer).")

APPLICATION_STATE = enum(APPLICATION_STATES.states, "Where the application stands: approved (an offer to accept), "
                                                    "accepted (the borrower took it), contract_signed, disbursing, "
                                                    "disbursed; or rejected, returned, cancelled, expired.")
LOAN_STATE = enum(LOAN_STATES.states, "active, overdue, paid_off, prepaid_closed or written_off.")

SCHEDULE_ROW = obj({
    "period": INTEGER, "due_date": DATE, "state": enum([s.value for s in InstallmentStatus]),
    "principal": MONEY, "interest": MONEY, "fee": MONEY, "penalty": MONEY,
    "total": {**MONEY, "description": "What the installment asks for: principal, interest, fee and penalty."},
    "paid_principal": MONEY, "paid_interest": MONEY, "paid_fee": MONEY, "paid_penalty": MONEY,
    "outstanding": {**MONEY, "description": "What is still owed of it."}, "paid_on": nullable(DATE),
})

PREPAYMENT_FIELDS: dict[str, Any] = {
    "loan_id": INTEGER, "on": DATE, "principal": MONEY, "broken_interest": MONEY, "fee": MONEY, "owed_now": MONEY,
    "total": {**MONEY, "description": "What to pay on `on`."}, "full": {"type": "boolean"},
    "held": {**MONEY, "description": "Overpayment suspense held for the loan."},
    "from_held": {**MONEY, "description": "The part of `total` the suspense pays."},
    "payable": {**MONEY, "description": "What the borrower still pays: `total` less `from_held`."},
    "held_after": {**MONEY, "description": "Suspense still held after paying `payable`."}}

RESOURCE_SCHEMAS: dict[str, Any] = {
    "Decision": DECISION,
    "Application": obj({
        "id": INTEGER, "external_id": nullable(STRING), "product_code": STRING,
        "product_version": {"type": "integer", "description": "The product's version number it was priced under."},
        "state": APPLICATION_STATE, "review_step": nullable(STRING), "amount": MONEY, "term": INTEGER,
        "method": METHOD, "score": nullable(INTEGER), "grade": nullable(STRING),
        "reason_codes": {"type": "array", "items": STRING}, "decision": nullable(ref("Decision")),
        "loan_id": nullable(INTEGER), "created_at": DATETIME, "decided_at": nullable(DATETIME),
        "links": _links("self", optional=("acceptance", "resubmission", "contract", "disbursement", "loan",
                                            "credit_line")),
    }, description="An application: its one state, its decision, and links to what it may do next."),
    "ApplicationList": _list_of("Application"),
    "Signature": obj({"role": enum(["borrower", "lender"]), "name": STRING, "signed_at": DATETIME,
                      "sha256": STRING, "algorithm": STRING}),
    "Contract": obj({
        "application_id": INTEGER, "contract_id": STRING,
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                   "description": "The hash of the document: send it back to sign."},
        "media_type": STRING, "content_base64": {"type": "string", "contentEncoding": "base64"},
        "signed": {"type": "boolean"}, "signatures": {"type": "array", "items": ref("Signature")},
    }, required=["application_id", "contract_id", "sha256", "media_type", "signed", "signatures"],
        description="The contract; `content_base64` is there when it is fetched, not when it is signed."),
    "Disbursement": obj({
        "application_id": INTEGER,
        "state": enum(["disbursing", "disbursed", "disbursement_failed"], "The application's state."),
        "request_id": STRING, "failure": nullable(STRING), "loan_id": nullable(INTEGER),
    }, description="The payout sent to the product's payment channel; its callback completes it."),
    "Loan": obj({
        "id": INTEGER, "application_id": nullable(INTEGER), "product_code": STRING, "product_version": INTEGER,
        "state": LOAN_STATE, "principal": MONEY, "annual_rate": RATE, "method": METHOD, "disbursed_on": DATE,
        "maturity_date": DATE, "closed_on": nullable(DATE), "days_past_due": INTEGER,
        "bucket": enum(BUCKETS, "Delinquency bucket, M0 (current) to M7."),
        "five_tier": enum([t.value for t in FiveTier], "Five-tier classification (五级分类)."),
        "links": _links("self", "schedule", "balances", "repayments", "prepayment_quotes"),
    }, description="A booked loan."),
    "LoanList": _list_of("Loan"),
    "ScheduleInstallment": SCHEDULE_ROW,
    "LoanSchedule": obj({"loan_id": INTEGER, "installments": {"type": "array", "items": ref("ScheduleInstallment")}}),
    "Balances": obj({"loan_id": INTEGER, "principal": MONEY, "interest": MONEY, "fee": MONEY, "penalty": MONEY,
                     "total": MONEY, "overpayment": {**MONEY, "description": "Money held, applied on due dates."}},
                    description="What the borrower owes now, from the ledger."),
    "Allocation": obj({"lines": {"type": "array", "items": obj({
        "period": INTEGER, "component": enum(["penalty", "fee", "interest", "principal"]), "amount": MONEY})},
        "excess": {**MONEY, "description": "Held as overpayment and applied on the next due dates at the day's "
                                           "close (nothing was due yet, or more was paid than due)."}}),
    "Repayment": obj({
        "id": INTEGER, "loan_id": INTEGER, "amount": MONEY, "paid_on": DATE,
        "state": enum(["posted", "reversed"]), "allocated": ref("Allocation"),
        "loan_state": nullable(LOAN_STATE),
    }, description="A repayment and where it went."),
    "RepaymentList": _list_of("Repayment"),
    "PrepaymentQuote": obj(PREPAYMENT_FIELDS),
    "Prepayment": obj({**PREPAYMENT_FIELDS, "event_id": INTEGER, "loan_state": LOAN_STATE}),
    "Webhook": obj({"id": INTEGER, "url": STRING, "events": {"type": "array", "items": STRING},
                    "active": {"type": "boolean"}, "created_at": DATETIME,
                    "secret": {"type": "string", "description": "Shown once, on creation."}},
                   required=["id", "url", "events", "active", "created_at"]),
    "WebhookList": _list_of("Webhook"),
    "EventData": obj({"entity": enum([machine.entity for machine in EVENT_MACHINES]), "id": INTEGER,
                      "from": nullable(STRING), "to": STRING, "at": DATETIME, "reason": nullable(STRING)},
                     description="The state change an event announces."),
    "WebhookEvent": obj({
        "id": INTEGER, "type": enum(EVENT_TYPES), "status": enum(["pending", "delivered", "failed", "cancelled"]),
        "attempts": INTEGER,
        "last_error": {"anyOf": [{"type": "string", "pattern": "^(http_[0-9]{3}|no_answer|address_refused)$"},
                                 {"type": "null"}],
                       "description": "The last failed attempt: http_<status>, no_answer or address_refused."},
        "data": ref("EventData"), "delivered_at": nullable(DATETIME),
    }),
    "WebhookEventList": _list_of("WebhookEvent"),
    "WebhookPayload": obj({"id": INTEGER, "type": enum(EVENT_TYPES), "created_at": DATETIME,
                           "data": ref("EventData")}, description="The body of a webhook delivery."),
    "PluginList": obj({"plugins": {"type": "array", "items": obj({
        "name": STRING, "version": STRING, "source": STRING, "module": STRING,
        "hooks": {"type": "array", "items": STRING}, "enabled": {"type": "boolean"}},
        required=["name", "version", "source", "hooks", "enabled"])},
        "families": obj({}, required=[], additionalProperties={"type": "array", "items": STRING},
                        description="Hook family -> the hooks in it.")}),
    "PaymentCallbackReceipt": obj({"received": {"type": "boolean"}, "request_id": STRING, "status": STRING,
                                   "application_state": APPLICATION_STATE, "loan_id": nullable(INTEGER)}),
}
