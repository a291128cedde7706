"""A loan's automatic debits: its authorisation and every instruction made under it, and the revocation.

``GET /loans/{id}/debits`` shows the authorisation (account masked) and each instruction (installment,
attempt, amount asked and collected, state, the channel's failure code); ``POST
/loans/{id}/debit-authorisation/revocation`` records the borrower's withdrawal (:func:`core.debits.
authorisations.revoke`, audited). The channel's callbacks about debits arrive at the payment callback
(:mod:`api.views.contracts`), which hands them to :mod:`core.debits.results`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from api import clock
from api.auth import current_client
from api.body import json_body
from api.serialize import iso, money
from api.transactions import idempotent
from api.views.loans import channel_loan
from core.debits import authorisations
from core.debits.models import DebitAuthorisation, DebitInstruction, aware
from core.inputs import FieldChecker
from loanfactory.database import db_session


def _moment(value: datetime | None) -> str | None:
    return None if value is None else aware(value).isoformat()


def authorisation_json(authorisation: DebitAuthorisation | None) -> dict[str, Any] | None:
    if authorisation is None:
        return None
    return {"bank_code": authorisation.bank_code, "account": "*" * 4 + authorisation.account_tail,
            "granted_at": _moment(authorisation.granted_at), "channel": authorisation.channel,
            "contract_sha256": authorisation.contract_sha256, "live": authorisation.live,
            "revoked_at": _moment(authorisation.revoked_at), "revoke_reason": authorisation.revoke_reason}


def instruction_json(row: DebitInstruction) -> dict[str, Any]:
    return {"request_id": row.request_id, "period": row.period, "attempt": row.attempt,
            "scheduled_on": iso(row.scheduled_on), "amount": money(row.amount), "collected": money(row.collected),
            "state": row.state, "failure_code": row.failure_code or None,
            "failure_message": row.failure_message or None, "batch_id": row.batch_id,
            "sent_at": _moment(row.sent_at), "answered_at": _moment(row.answered_at)}


def register(bp: Blueprint) -> None:
    @bp.get("/loans/<int:loan_id>/debits")
    def get_debits(loan_id: int) -> Response:
        """The loan's debit authorisation and instructions, oldest first."""
        loan = channel_loan(loan_id)
        session = db_session()
        rows = session.scalars(select(DebitInstruction).where(DebitInstruction.loan_id == loan.id)
                               .order_by(DebitInstruction.period, DebitInstruction.attempt))
        return jsonify({"loan_id": loan.id, "authorisation": authorisation_json(authorisations.of_loan(session, loan)),
                        "instructions": [instruction_json(row) for row in rows]})

    @bp.post("/loans/<int:loan_id>/debit-authorisation/revocation")
    @idempotent
    def revoke_debit_authorisation(loan_id: int) -> Response:
        """The borrower withdraws the debit authorisation; no debit of the loan follows."""
        data = json_body()
        check = FieldChecker()
        check.unknown(data, {"reason"}, "")
        reason = check.text(data, "reason", "", required=True, max_length=authorisations.MAX_REASON)
        check.raise_problems()
        loan = channel_loan(loan_id)
        authorisation = authorisations.revoke(db_session(), loan_id=loan.id, reason=reason,
                                              actor=f"channel:{current_client().channel}", now=clock.now())
        return jsonify({"loan_id": loan.id, "authorisation": authorisation_json(authorisation)})
