"""Credit lines: apply for a line, take it, read it, quote and request drawdowns, list its loans.

Every rule is the kernel's (:mod:`core.credit_lines`); these views translate HTTP. A channel sees the lines
it applied for and those it was given a sub-limit on (another channel's line is not found).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from api import clock
from api.auth import current_client
from api.body import json_body
from api.pagination import paginate
from api.serialize import iso, money
from api.transactions import idempotent, transactional
from api.views.applications import application_json, channel_application
from api.views.contracts import plugin_unavailable
from api.views.products import offer_for_channel
from core.applications.models import Application
from core.credit_lines.application import accept_line, apply_for_line
from core.credit_lines.drawdown import may_draw, quote_drawdown, request_drawdown
from core.credit_lines.limits import ZERO, levels
from core.credit_lines.models import ChannelSubLimit, CreditLine, Drawdown
from core.loans.models import Loan
from core.origination.booking import DisbursementOrder
from core.origination.errors import NotFoundError
from core.origination.published import offer_of_version, version_number
from core.plugins.types import PluginFailure
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins
from loanfactory.settings import callback_tolerance_days


def line_json(line: CreditLine, channel: str) -> dict[str, Any]:
    """A line as ``channel`` sees it: its limit, what is used and available at every level, its dates."""
    found = levels(db_session(), line, channel=channel, on=clock.today())
    available = min(level.available for level in found)
    usable = line.state == "active" and clock.today() <= line.expires_on
    return {
        "id": line.id, "product_code": line.product_code,
        "product_version": version_number(db_session(), line.product_version_id),
        "state": line.state, "revolving": line.revolving, "annual_rate": f"{line.annual_rate:f}",
        "limit": money(line.limit), "used": money(next(lv.used for lv in found if lv.name == "line")),
        "available": money(available if usable else ZERO),
        "levels": [{"level": lv.name, "limit": money(lv.limit), "used": money(lv.used),
                    "available": money(lv.available)} for lv in found],
        "granted_on": iso(line.granted_on), "expires_on": iso(line.expires_on),
        "links": {"self": url_for("api.get_credit_line", line_id=line.id),
                  "drawdown_quotes": url_for("api.quote_line_drawdown", line_id=line.id),
                  "drawdowns": url_for("api.create_drawdown", line_id=line.id),
                  "loans": url_for("api.list_line_loans", line_id=line.id)},
    }


def drawdown_json(drawdown: Drawdown, application: Application, order: DisbursementOrder | None,
                  loan_id: int | None) -> dict[str, Any]:
    links = {"application": url_for("api.get_application", application_id=application.id),
             "line": url_for("api.get_credit_line", line_id=drawdown.line_id)}
    if loan_id is not None:
        links["loan"] = url_for("api.get_loan", loan_id=loan_id)
    return {"id": drawdown.id, "line_id": drawdown.line_id, "application_id": application.id,
            "amount": money(drawdown.amount), "method": application.method, "term": application.term,
            "state": application.state, "loan_id": loan_id, "created_at": iso(drawdown.created_at),
            "disbursement": None if order is None else {"request_id": order.request_id, "status": order.status,
                                                        "failure": order.failure},
            "links": links}


def channel_line(line_id: int, *, lock: bool = False) -> CreditLine:
    """A line the calling channel may see (404 otherwise)."""
    session = db_session()
    line = session.get(CreditLine, line_id, with_for_update=lock)
    if line is None or not may_draw(session, line, current_client().channel):
        raise NotFoundError(f"credit line {line_id} not found", field="line_id", value=line_id)
    current_client().require_scope(line.product_code)
    return line


def register(bp: Blueprint) -> None:
    @bp.post("/products/<code>/credit-line-applications")
    @idempotent
    def apply_for_credit_line(code: str) -> tuple[Response, int, dict[str, str]]:
        """Apply for a line: the limit asked for is ``amount``; decided like any application."""
        client = current_client()
        offer = offer_for_channel(code)
        application = apply_for_line(db_session(), get_plugins(), offer, json_body(), channel=client.channel,
                                     actor=f"channel:{client.channel}", now=clock.now())
        body = application_json(application)
        if application.state == "approved":
            body["links"]["credit_line"] = url_for("api.take_credit_line", application_id=application.id)
        location = url_for("api.get_application", application_id=application.id)
        return jsonify(body), 201, {"Location": location}

    @bp.post("/applications/<int:application_id>/credit-line")
    @idempotent
    def take_credit_line(application_id: int) -> tuple[Response, int]:
        """The borrower takes the approved line: it is granted and can be drawn on."""
        client = current_client()
        application = channel_application(application_id, lock=True)
        offer = offer_of_version(db_session(), application.product_version_id)
        line = accept_line(db_session(), application, offer, actor=f"channel:{client.channel}",
                           today=clock.today(), now=clock.now())
        return jsonify(line_json(line, client.channel)), 201

    @bp.get("/credit-lines")
    def list_credit_lines() -> Response:
        channel = current_client().channel
        shared = select(ChannelSubLimit.line_id).where(ChannelSubLimit.channel == channel)
        query = (select(CreditLine).where((CreditLine.channel == channel) | CreditLine.id.in_(shared))
                 .order_by(CreditLine.id.desc()))
        rows, page = paginate(db_session(), query, "api.list_credit_lines")
        return jsonify({"items": [line_json(line, channel) for line in rows], "page": page})

    @bp.get("/credit-lines/<int:line_id>")
    def get_credit_line(line_id: int) -> Response:
        return jsonify(line_json(channel_line(line_id), current_client().channel))

    @bp.post("/credit-lines/<int:line_id>/drawdown-quotes")
    @transactional
    def quote_line_drawdown(line_id: int) -> Response:
        """Price a drawdown at the line's rate from today; nothing is stored, the limits are not taken."""
        line = channel_line(line_id)
        offer = offer_of_version(db_session(), line.product_version_id)
        return jsonify(quote_drawdown(offer, line, json_body(), clock.today()).as_dict())

    @bp.post("/credit-lines/<int:line_id>/drawdowns")
    @idempotent
    def create_drawdown(line_id: int) -> tuple[Response, int]:
        """Draw on the line: the limits are taken and the payout sent (202 until the payment channel settles)."""
        client = current_client()
        line = channel_line(line_id)
        offer = offer_of_version(db_session(), line.product_version_id)
        try:
            result = request_drawdown(db_session(), get_plugins(), offer, line.id, json_body(),
                                      channel=client.channel, actor=f"channel:{client.channel}",
                                      today=clock.today(), now=clock.now(), tolerance_days=callback_tolerance_days())
        except PluginFailure as failure:
            raise plugin_unavailable(failure) from None
        loan_id = db_session().scalar(select(Loan.id).where(Loan.application_id == result.application.id))
        return jsonify(drawdown_json(result.drawdown, result.application, result.order, loan_id)), 202

    @bp.get("/credit-lines/<int:line_id>/loans")
    def list_line_loans(line_id: int) -> Response:
        """The line's drawdowns, newest first, each with its application's state and its loan once booked."""
        line = channel_line(line_id)
        session = db_session()
        query = select(Drawdown).where(Drawdown.line_id == line.id).order_by(Drawdown.id.desc())
        rows, page = paginate(session, query, "api.list_line_loans", line_id=line.id)
        ids = [d.application_id for d in rows]
        applications = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}
        loans = dict(session.execute(select(Loan.application_id, Loan.id).where(Loan.application_id.in_(ids))).all())
        orders: dict[int, DisbursementOrder] = {}
        for order in session.scalars(select(DisbursementOrder).where(DisbursementOrder.application_id.in_(ids))
                                     .order_by(DisbursementOrder.id)):
            orders[order.application_id] = order
        return jsonify({"items": [drawdown_json(d, applications[d.application_id], orders.get(d.application_id),
                                                loans.get(d.application_id)) for d in rows], "page": page})

