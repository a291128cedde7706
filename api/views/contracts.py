"""After approval: accept the offer, read and sign the contract, disburse, and the payment callback."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import clock
from api.auth import current_client
from api.body import all_problems, json_body, unknown_fields
from api.problems import ApiProblem, invalid
from api.serialize import iso_text
from api.transactions import idempotent, transactional
from api.views.applications import application_json, channel_application, loan_of
from core.applications.models import Application
from core.debits.results import apply_result, instruction_for
from core.origination import booking
from core.origination.booking import ContractRecord, DisbursementOrder
from core.origination.published import offer_of_version
from core.plugins.types import CallbackSignatureError, PluginFailure
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins
from loanfactory.settings import callback_tolerance_days, overpayment_multiple


def contract_json(application_id: int, record: ContractRecord, *, with_content: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"application_id": application_id, "contract_id": record.contract_id,
                            "sha256": record.sha256, "media_type": record.media_type,
                            "signed": record.signed_at is not None,
                            "signatures": [{"role": s["signer"]["role"], "name": s["signer"]["name"],
                                            "signed_at": iso_text(s["signed_at"]), "sha256": s["sha256"],
                                            "algorithm": s.get("algorithm", "Ed25519")} for s in record.signatures]}
    if with_content:
        data["content_base64"] = base64.b64encode(record.content).decode()
    return data


def disbursement_json(order: DisbursementOrder, state: str) -> dict[str, Any]:
    """The payout: ``state`` is the application's (disbursing until the payment channel calls back, then disbursed
    or disbursement_failed with the ``failure``)."""
    return {"application_id": order.application_id, "state": state, "request_id": order.request_id,
            "failure": order.failure, "loan_id": order.loan_id}


def plugin_unavailable(failure: PluginFailure) -> ApiProblem:
    """A plugin that refused on purpose is the request's fault (422); one that broke is a 503 to retry."""
    if failure.outcome == "refused":
        return ApiProblem(422, "Refused", str(failure.cause or failure), slug="refused")
    return ApiProblem(503, "Service Unavailable", f"{failure}; retry with the same Idempotency-Key",
                      slug="plugin-unavailable", headers={"Retry-After": "5"})


def register(bp: Blueprint) -> None:
    @bp.post("/applications/<int:application_id>/acceptance")
    @idempotent
    def accept_offer(application_id: int) -> Response:
        application = channel_application(application_id, lock=True)
        booking.accept_offer(db_session(), application, actor=f"channel:{current_client().channel}", now=clock.now())
        return jsonify(application_json(application))

    @bp.get("/applications/<int:application_id>/contract")
    @transactional
    def get_contract(application_id: int) -> Response:
        """The contract to show the borrower; rendered once, then the same document every time (``?format=pdf``:
        the PDF itself)."""
        shown_as = request.args.get("format", "json")
        if shown_as not in ("json", "pdf"):
            raise invalid([("query:format", "must be json or pdf")])
        application = channel_application(application_id, lock=True)
        offer = offer_of_version(db_session(), application.product_version_id)
        try:
            record = booking.contract_for(db_session(), get_plugins(), application, offer, today=clock.today())
        except PluginFailure as failure:
            raise plugin_unavailable(failure) from None
        if shown_as == "pdf":
            return Response(record.content, mimetype=record.media_type,
                            headers={"Content-Disposition": f'inline; filename="{record.contract_id}.pdf"'})
        return jsonify(contract_json(application.id, record, with_content=True))

    @bp.post("/applications/<int:application_id>/contract/signature")
    @idempotent
    def sign_contract(application_id: int) -> Response:
        data = json_body()
        signer_name, sha256 = all_problems(unknown_fields(data, {"signer_name", "sha256"}), lambda: (
            booking.signature_request(data.get("signer_name"), data.get("sha256"))))
        application = channel_application(application_id, lock=True)
        offer = offer_of_version(db_session(), application.product_version_id)
        client = current_client()
        try:
            record = booking.sign_contract(db_session(), get_plugins(), application, offer,
                                           signer_name=signer_name, sha256=sha256,
                                           channel="api", actor=f"channel:{client.channel}")
        except PluginFailure as failure:
            raise plugin_unavailable(failure) from None
        return jsonify(contract_json(application.id, record, with_content=False))

    @bp.post("/applications/<int:application_id>/disbursement")
    @idempotent
    def disburse(application_id: int) -> tuple[Response, int]:
        """Send the payout; the payment channel's callback completes it (202 until then)."""
        application = channel_application(application_id, lock=True)
        offer = offer_of_version(db_session(), application.product_version_id)
        try:
            order = booking.start_disbursement(db_session(), get_plugins(), application, offer,
                                               actor=f"channel:{current_client().channel}", today=clock.today(),
                                               tolerance_days=callback_tolerance_days(), zone=clock.zone())
        except PluginFailure as failure:
            raise plugin_unavailable(failure) from None
        return jsonify(disbursement_json(order, application.state)), 202

    @bp.post("/callbacks/payments/<plugin>")
    @transactional
    def disbursement_callback(plugin: str) -> Response:
        """The payment channel's signed settlement notice; verified by the plugin that issued the order. A debit's
        answer goes to :func:`core.debits.results.apply_result` (a duplicate or late one changes nothing); a payout's
        is held to the order (amount, settlement date): a mismatch is refused naming the field, and the order's flag
        for reconciliation is committed with the refusal (:class:`core.errors.RecordedRefusal`)."""
        session = db_session()
        try:
            result = get_plugins().call(plugin, "payment_verify_callback", session=session,
                                        subject="callback", headers=dict(request.headers), body=request.get_data())
        except PluginFailure as failure:
            if isinstance(failure.cause, CallbackSignatureError):
                raise ApiProblem(401, "Unauthorized", str(failure.cause), slug="bad-signature") from None
            raise plugin_unavailable(failure) from None
        debit = instruction_for(session, result.request_id)
        if debit is not None:
            if debit.plugin != plugin:
                raise ApiProblem(404, "Not found", f"no {plugin} debit {result.request_id}", slug="not-found")
            changed = apply_result(session, debit, result, today=clock.today(), actor=f"payment:{plugin}",
                                   overpayment_multiple=overpayment_multiple(), now=get_plugins().clock())
            return jsonify({"received": True, "request_id": debit.request_id, "state": debit.state,
                            "changed": changed, "loan_id": debit.loan_id})
        order = booking.order_for(session, result.request_id)
        if order.plugin != plugin:
            raise ApiProblem(404, "Not found", f"no {plugin} payout order {result.request_id}", slug="not-found")
        application = session.get(Application, order.application_id, with_for_update=True)
        assert application is not None
        loan = booking.complete_disbursement(session, order, result, actor=f"payment:{plugin}",
                                             today=clock.today(), tolerance_days=callback_tolerance_days(),
                                             zone=clock.zone())
        return jsonify({"received": True, "request_id": order.request_id, "status": order.status,
                        "application_state": application.state, "loan_id": loan.id if loan else loan_of(
                            application.id)})

