"""The OpenAPI description of a loan's debits (:mod:`api.views.debits`), merged into the common document."""

from __future__ import annotations

from typing import Any

from api.openapi_common import DATE, LOAN_ID, MONEY, NULLABLE_DATETIME, _op, ref

_NULLABLE_TEXT = {"type": ["string", "null"]}

DEBIT_SCHEMAS: dict[str, Any] = {
    "DebitAuthorisation": {
        "type": "object", "required": ["bank_code", "account", "granted_at", "live"],
        "description": "The borrower's debit authorisation (代扣授权), captured when the contract stating it was "
                       "signed.",
        "properties": {"bank_code": {"type": "string"}, "account": {"type": "string", "description": "Masked."},
                       "granted_at": {"type": "string", "format": "date-time"}, "channel": {"type": "string"},
                       "contract_sha256": {"type": "string"}, "live": {"type": "boolean"},
                       "revoked_at": NULLABLE_DATETIME, "revoke_reason": _NULLABLE_TEXT}},
    "DebitInstruction": {
        "type": "object", "required": ["request_id", "period", "attempt", "amount", "collected", "state"],
        "properties": {"request_id": {"type": "string"}, "period": {"type": "integer"},
                       "attempt": {"type": "integer"}, "scheduled_on": DATE, "amount": MONEY, "collected": MONEY,
                       "state": {"type": "string", "enum": ["created", "sending", "sent", "succeeded", "partial",
                                                            "failed", "cancelled", "skipped", "stopped"]},
                       "failure_code": _NULLABLE_TEXT, "failure_message": _NULLABLE_TEXT,
                       "batch_id": _NULLABLE_TEXT, "sent_at": NULLABLE_DATETIME, "answered_at": NULLABLE_DATETIME}},
    "LoanDebits": {
        "type": "object", "required": ["loan_id", "authorisation", "instructions"],
        "properties": {"loan_id": {"type": "integer"},
                       "authorisation": {"oneOf": [ref("DebitAuthorisation"), {"type": "null"}]},
                       "instructions": {"type": "array", "items": ref("DebitInstruction")}}},
    "RevocationRequest": {"type": "object", "additionalProperties": False, "required": ["reason"],
                          "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}}},
    "Revocation": {"type": "object", "required": ["loan_id", "authorisation"],
                   "properties": {"loan_id": {"type": "integer"}, "authorisation": ref("DebitAuthorisation")}},
}

DEBIT_PATHS: dict[str, Any] = {
    "/loans/{loan_id}/debits": {"get": _op(
        "getDebits", "The loan's debit authorisation and every debit instruction (代扣)",
        ("200", "LoanDebits", "The authorisation and the instructions."), params=[LOAN_ID])},
    "/loans/{loan_id}/debit-authorisation/revocation": {"post": _op(
        "revokeDebitAuthorisation", "The borrower withdraws the debit authorisation",
        ("200", "Revocation", "Revoked; no debit follows."), body="RevocationRequest", params=[LOAN_ID],
        idempotent=True)},
}
