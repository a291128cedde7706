"""Credit lines: the book's lines, a line's limits and usage, dual-control changes, and the warning list.

A line's page shows every level of limits with what is used (and a chart of it), the drawdowns and their
loans, the line's events and its early warnings. Freezing, unfreezing and adjusting the limit are dual
control: one person files the change here, a second holding ``credit_line.change.approve`` decides it on the
requests page, and an approval is carried out in the same transaction
(:func:`core.credit_lines.changes.decide_line_change`). The warnings page lists the early warnings
(open ones first) and closes one with a note (:func:`core.early_warning.scan.handle_warning`, audited).
Customers are shown masked.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.base import SecureView
from admin.pii import masked
from core.applications.models import Application
from core.backoffice.audit import ChangeRequest, pending_changes
from core.backoffice.users import can
from core.credit_lines.changes import KINDS, decide_line_change, request_line_change
from core.credit_lines.limits import levels, used_by_line
from core.credit_lines.models import CreditLine, Drawdown, LineEvent
from core.customers.parties import Customer
from core.early_warning.models import EarlyWarning
from core.early_warning.scan import handle_warning
from core.errors import LoanFactoryError
from core.loans.models import Loan
from loanfactory import clock
from loanfactory.database import db_session

PAGE_SIZE = 50
LINE_STATES = ("active", "frozen", "expired", "closed")
WARNING_STATES = ("open", "handled", "dismissed")


class CreditLinesView(SecureView):
    permission = "credit_line.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        query = select(CreditLine)
        state = request.args.get("state")
        if state in LINE_STATES:
            query = query.where(CreditLine.state == state)
        page = max(request.args.get("page", 1, type=int), 1)
        lines = list(db.scalars(query.order_by(CreditLine.id.desc()).offset((page - 1) * PAGE_SIZE)
                                .limit(PAGE_SIZE)))
        used = used_by_line(db, [line.id for line in lines])
        customers = {c.id: masked(c) for c in db.scalars(select(Customer).where(
            Customer.id.in_({line.customer_id for line in lines})))}
        following = {**request.args, "page": page + 1} if len(lines) == PAGE_SIZE else None
        return self.render("lf/credit_lines/list.html", lines=lines, used=used, customers=customers,
                           states=LINE_STATES, args=request.args, following=following)

    @expose("/<int:line_id>")
    def detail(self, line_id: int) -> Any:
        db = db_session()
        line = db.get(CreditLine, line_id) or abort(404)
        found = levels(db, line, channel=None, on=clock.today())
        drawdowns = list(db.scalars(select(Drawdown).where(Drawdown.line_id == line_id).order_by(Drawdown.id)))
        ids = [d.application_id for d in drawdowns]
        states = dict(db.execute(select(Application.id, Application.state).where(Application.id.in_(ids))).all())
        loans = dict(db.execute(select(Loan.application_id, Loan.id).where(Loan.application_id.in_(ids))).all())
        events = list(db.scalars(select(LineEvent).where(LineEvent.line_id == line_id).order_by(LineEvent.id)))
        warnings = list(db.scalars(select(EarlyWarning).where(EarlyWarning.line_id == line_id)
                                   .order_by(EarlyWarning.id.desc())))
        requests = list(db.scalars(select(ChangeRequest).where(ChangeRequest.entity_type == "credit_line",
                                                               ChangeRequest.entity_id == str(line_id))
                                   .order_by(ChangeRequest.id)))
        chart = {"levels": [[lv.name, str(lv.limit), str(lv.used)] for lv in found],
                 "drawn": [[d.created_at.date().isoformat() if d.created_at else "", str(d.amount)]
                           for d in drawdowns]}
        return self.render("lf/credit_lines/detail.html", line=line, levels=found, drawdowns=drawdowns,
                           states=states, loans=loans, events=events, warnings=warnings, requests=requests,
                           customer=masked(db.get(Customer, line.customer_id)), chart=chart)

    @expose("/<int:line_id>/request/<kind>", methods=["POST"])
    def file_request(self, line_id: int, kind: str) -> Any:
        if kind not in KINDS:
            abort(404)
        self.require("credit_line.change.request")
        db = db_session()
        try:
            request_line_change(db, maker=current_user, line_id=line_id, kind=kind,
                                params={"limit": request.form.get("limit")}, reason=request.form.get("reason", ""))
            db.commit()
            flash(_("Request filed; a second person must approve it."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".detail", line_id=line_id))

    @expose("/requests")
    def requests(self) -> Any:
        db = db_session()
        mine = pending_changes(db, KINDS)
        deciding = mine if can(current_user, "credit_line.change.approve") else []
        return self.render("lf/change_requests.html", requests=deciding, mine=mine, entity_label=_("Line"),
                           detail_endpoint=".detail", id_arg="line_id")

    @expose("/requests/<int:request_id>", methods=["POST"])
    def decide(self, request_id: int) -> Any:
        self.require("credit_line.change.approve")
        db = db_session()
        change = db.get(ChangeRequest, request_id)
        if change is None or change.kind not in KINDS:
            abort(404)
        try:
            decide_line_change(db, change, checker=current_user, approve=request.form.get("decision") == "approve",
                               comment=request.form.get("comment", ""))
            db.commit()
            flash(_("Request %(id)s %(state)s.", id=change.id, state=change.state), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".requests"))

    @expose("/warnings")
    def warnings(self) -> Any:
        db = db_session()
        state = request.args.get("state", "open")
        query = select(EarlyWarning)
        if state in WARNING_STATES:
            query = query.where(EarlyWarning.state == state)
        rows = list(db.scalars(query.order_by(EarlyWarning.id.desc()).limit(PAGE_SIZE * 4)))
        customers = {c.id: masked(c) for c in db.scalars(select(Customer).where(
            Customer.id.in_({w.customer_id for w in rows})))}
        return self.render("lf/credit_lines/warnings.html", warnings=rows, customers=customers, state=state,
                           states=WARNING_STATES)

    @expose("/warnings/<int:warning_id>", methods=["POST"])
    def handle(self, warning_id: int) -> Any:
        self.require("warning.handle")
        db = db_session()
        try:
            handle_warning(db, warning_id, actor=current_user.username, outcome=request.form.get("outcome", ""),
                           note=request.form.get("note", ""))
            db.commit()
            flash(_("Warning %(id)s closed.", id=warning_id), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".warnings"))
