"""Applications: apply for a product, follow the decision, accept the offer, sign the contract, disburse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from api.auth import current_client
from api.body import json_body
from api.pagination import paginate
from api.serialize import iso, iso_text, money
from api.transactions import idempotent
from api.views.products import offer_for_channel
from core.applications.models import Application
from core.loans.models import Loan
from core.origination.approved import offer_if_any
from core.origination.errors import NotFoundError
from core.origination.pipeline import submit_application
from core.origination.published import version_number
from core.origination.requests import parse_application
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins

#: the keys of the kernel's decision a channel sees (the evaluation context and the reviewers' notes stay inside)
DECISION_KEYS = ("outcome", "reasons", "errors", "task_id", "step", "bureau", "model_version", "returns",
                 "missing_documents", "approved_limit", "annual_rate", "offer_expires_at", "identity",
                 "identity_review")


def decision_json(application: Application) -> dict[str, Any] | None:
    """The decision as the document's ``Decision`` declares it: the kernel's outcome, and the approved offer's
    terms (times in the zone :func:`api.serialize.iso` shows)."""
    decision = {k: v for k, v in (application.decision or {}).items() if k in DECISION_KEYS}
    offer = offer_if_any(application)
    if offer is not None:
        decision.update(offer.decision_fields())
        for name in ("offer_expires_at", "accepted_at"):
            if decision.get(name):
                decision[name] = iso_text(decision[name])
    if "step" in decision and decision["step"] is not None:
        decision["step"] = str(decision["step"])
    return decision or None


def application_links(application: Application, loan_id: int | None) -> dict[str, str]:
    """Where the channel goes next from this application's state."""
    links = {"self": url_for("api.get_application", application_id=application.id)}
    if application.state == "approved":
        links["acceptance"] = url_for("api.accept_offer", application_id=application.id)
    if application.state == "returned":
        links["resubmission"] = url_for("api.resubmit_application", application_id=application.id)
    if application.state in ("accepted", "contract_signed", "disbursing", "disbursed", "disbursement_failed"):
        links["contract"] = url_for("api.get_contract", application_id=application.id)
    if application.state in ("contract_signed", "disbursement_failed"):
        links["disbursement"] = url_for("api.disburse", application_id=application.id)
    if loan_id is not None:
        links["loan"] = url_for("api.get_loan", loan_id=loan_id)
    return links


def application_json(application: Application, loan_id: int | None = None) -> dict[str, Any]:
    """An application as the channel sees it: its one ``state``, its decision with the approved offer, and the
    links to what it may do next."""
    return {
        "id": application.id,
        "external_id": application.external_id,
        "product_code": application.product_code,
        "product_version": version_number(db_session(), application.product_version_id),
        "state": application.state,
        "review_step": application.review_step,
        "amount": money(application.amount),
        "term": application.term,
        "method": application.method,
        "score": application.score,
        "grade": application.grade,
        "reason_codes": list(application.reason_codes or []),
        "decision": decision_json(application),
        "loan_id": loan_id,
        "created_at": iso(application.created_at),
        "decided_at": iso(application.decided_at),
        "links": application_links(application, loan_id),
    }


def channel_application(application_id: int, *, lock: bool = False) -> Application:
    """The calling channel's application (another channel's is not found either)."""
    application = db_session().get(Application, application_id, with_for_update=lock)
    if application is None or application.channel != current_client().channel:
        raise NotFoundError(f"application {application_id} not found", field="application_id",
                            value=application_id)
    return application


def loan_of(application_id: int) -> int | None:
    return db_session().scalar(select(Loan.id).where(Loan.application_id == application_id))


def register(bp: Blueprint) -> None:
    @bp.post("/products/<code>/applications")
    @idempotent
    def create_application(code: str) -> tuple[Response, int, dict[str, str]]:
        """Apply: the application is checked whole, recorded and decided in one transaction."""
        client = current_client()
        offer = offer_for_channel(code)
        now = datetime.now(UTC)
        request = parse_application(offer, json_body(), now)
        application = submit_application(db_session(), get_plugins(), offer, request, channel=client.channel,
                                         actor=f"channel:{client.channel}", now=now)
        location = url_for("api.get_application", application_id=application.id)
        return jsonify(application_json(application)), 201, {"Location": location}

    @bp.get("/applications")
    def list_applications() -> Response:
        query = (select(Application).where(Application.channel == current_client().channel)
                 .order_by(Application.id.desc()))
        rows, page = paginate(db_session(), query, "api.list_applications")
        loans = dict(db_session().execute(select(Loan.application_id, Loan.id).where(
            Loan.application_id.in_([a.id for a in rows]))).tuples()) if rows else {}
        return jsonify({"items": [application_json(a, loans.get(a.id)) for a in rows], "page": page})

    @bp.get("/applications/<int:application_id>")
    def get_application(application_id: int) -> Response:
        application = channel_application(application_id)
        return jsonify(application_json(application, loan_of(application.id)))
