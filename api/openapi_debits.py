"""The contract of a loan's debits (代扣, :mod:`api.views.debits`): its operations and schemas, registered in
the API's registry (:mod:`api.openapi.registry`) when the document is assembled."""

from __future__ import annotations

from typing import Any

from api.openapi.registry import Operation, Success, register, register_schemas
from api.openapi.schemas import DATE, DATETIME, INTEGER, MONEY, STRING, enum, nullable, obj, path_id, ref
from core.origination.catalog import Offer
from core.states import DEBIT_STATES

LOAN_ID = path_id("loan_id", "loan")

DEBIT_SCHEMAS: dict[str, Any] = {
    "DebitAuthorisation": obj({
        "bank_code": STRING, "account": {"type": "string", "description": "Masked: the account's last digits."},
        "granted_at": DATETIME, "channel": nullable(STRING), "contract_sha256": nullable(STRING),
        "live": {"type": "boolean", "description": "False once revoked."},
        "revoked_at": nullable(DATETIME), "revoke_reason": nullable(STRING),
    }, description="The borrower's debit authorisation (代扣授权), captured when the contract stating it was "
                   "signed."),
    "DebitInstruction": obj({
        "request_id": STRING, "period": INTEGER, "attempt": INTEGER, "scheduled_on": nullable(DATE),
        "amount": MONEY, "collected": MONEY,
        "state": enum(DEBIT_STATES.states, "Where the debit stands (core.states.DEBIT_STATES)."),
        "failure_code": nullable(STRING), "failure_message": nullable(STRING), "batch_id": nullable(STRING),
        "sent_at": nullable(DATETIME), "answered_at": nullable(DATETIME),
    }, description="One attempt to collect an installment from the borrower's account."),
    "LoanDebits": obj({"loan_id": INTEGER, "authorisation": nullable(ref("DebitAuthorisation")),
                       "instructions": {"type": "array", "items": ref("DebitInstruction")}},
                      description="The loan's authorisation (null when none was captured) and every instruction, "
                                  "oldest first."),
    "RevocationRequest": {**obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500,
                                            "description": "Why the borrower withdraws it."}}),
                          "additionalProperties": False},
    "DebitCallbackReceipt": obj({
        "received": {"type": "boolean"}, "request_id": STRING,
        "state": enum(DEBIT_STATES.states, "The debit's state after the answer."),
        "changed": {"type": "boolean", "description": "False when the answer was known already (a replay)."},
        "loan_id": INTEGER}, description="The payment channel's answer to a debit, received."),
    "Revocation": obj({"loan_id": INTEGER, "authorisation": ref("DebitAuthorisation")},
                      description="The withdrawn authorisation."),
}


def tailor(_offer: Offer | None, schemas: dict[str, Any]) -> None:
    """The payment callback's receipt in ``schemas``: of a payout, or of a debit's answer."""
    schemas["PaymentCallbackReceipt"] = {"anyOf": [schemas["PaymentCallbackReceipt"], ref("DebitCallbackReceipt")],
                                         "description": "What the payment callback received: a payout's "
                                                        "settlement, or a debit's answer."}


def register_operations() -> None:
    """Register the debit operations and schemas (once, when the registry is assembled)."""
    register_schemas(DEBIT_SCHEMAS, tailor)
    for operation in (
        Operation("getDebits", "get", "/loans/{loan_id}/debits",
                  "The loan's debit authorisation and every debit instruction (代扣)",
                  "Each installment's collection attempts from the borrower's account, and the authorisation they "
                  "rest on.", "loans", Success("200", "The authorisation and the instructions.", "LoanDebits"),
                  parameters=(LOAN_ID,), problems=("not-found",)),
        Operation("revokeDebitAuthorisation", "post", "/loans/{loan_id}/debit-authorisation/revocation",
                  "The borrower withdraws the debit authorisation",
                  "No debit of the loan follows; the borrower repays by other means. Refused (409) when the loan "
                  "has no authorisation.", "loans", Success("200", "Revoked; no debit follows.", "Revocation"),
                  parameters=(LOAN_ID,), problems=("not-found", "wrong-state"), body="RevocationRequest",
                  body_example={"reason": "the borrower repays by bank transfer"}, idempotent=True),
    ):
        register(operation)
