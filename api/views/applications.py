"""Applications: apply for a product, follow the decision, accept the offer, sign the contract, disburse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from api.auth import current_client
from api.body import json_body
from api.pagination import paginate
from api.serialize import iso, money
from api.transactions import idempotent
from api.views.products import offer_for_channel
from core.applications.models import Application
from core.loans.models import Loan
from core.origination.approved import offer_if_any
from core.origination.errors import NotFoundError
from core.origination.pipeline import submit_application
from core.origination.requests import parse_application
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins


def application_json(application: Application, loan_id: int | None = None) -> dict[str, Any]:
    """An application as the channel sees it: the decision without the internal evaluation context, and the
    approved offer among the decision's keys."""
    decision = {k: v for k, v in (application.decision or {}).items() if k not in ("context", "manual")}
    offer = offer_if_any(application)
    if offer is not None:
        decision.update(offer.decision_fields())
    links = {"self": url_for("api.get_application", application_id=application.id)}
    if application.state == "approved":
        links["acceptance"] = url_for("api.accept_offer", application_id=application.id)
    if application.state == "returned":
        links["resubmission"] = url_for("api.resubmit_application", application_id=application.id)
    if application.state in ("approved", "contract_signed"):
        links["contract"] = url_for("api.get_contract", application_id=application.id)
    if loan_id is not None:
        links["loan"] = url_for("api.get_loan", loan_id=loan_id)
    return {
        "id": application.id,
        "external_id": application.external_id,
        "product_code": application.product_code,
        "product_version": application.product_version_id,
        "state": application.state,
        "review_step": application.review_step,
        "amount": money(application.amount),
        "term": application.term,
        "method": application.method,
        "score": application.score,
        "grade": application.grade,
        "reason_codes": list(application.reason_codes or []),
        "decision": decision or None,
        "loan_id": loan_id,
        "created_at": iso(application.created_at),
        "decided_at": iso(application.decided_at),
        "links": links,
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
        return jsonify({"items": [application_json(a) for a in rows], "page": page})

    @bp.get("/applications/<int:application_id>")
    def get_application(application_id: int) -> Response:
        application = channel_application(application_id)
        return jsonify(application_json(application, loan_of(application.id)))
