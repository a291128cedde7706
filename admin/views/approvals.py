"""The approval inbox: applications the machines could not decide, for the role each step names.

A risk officer (or manager) sees the open tasks of their roles, oldest deadline first, with the SLA
counting down. A task shows the application, the applicant with personal data masked (revealing it is
audited), the credit-bureau findings, the score with its reason codes, the collateral and the decision
so far. Approving or rejecting goes through :func:`core.origination.pipeline.decide_task`, which refuses
a second decision by the same person (four eyes, when the product asks for two approvals) and runs the
rest of the approval chain after an approval. A comment is required to reject.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.base import SecureView
from admin.pii import masked, reveal
from core.applications.models import Application
from core.errors import LoanFactoryError
from core.origination.approval import ApprovalTask, open_tasks, task_by_id
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version
from core.parties import Customer
from loanfactory.database import db_session


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _mine(task: ApprovalTask) -> bool:
    """Whether the signed-in user holds the role the task waits for."""
    return task.role in {role.value for role in current_user.roles}


class ApprovalsView(SecureView):
    permission = "approval.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        tasks = open_tasks(db)
        applications = {a.id: a for a in db.scalars(select(Application).where(
            Application.id.in_({t.application_id for t in tasks})))}
        customers = {c.id: masked(c) for c in db.scalars(select(Customer).where(
            Customer.id.in_({a.customer_id for a in applications.values()})))}
        now = datetime.now(UTC)
        rows = [{"task": t, "application": applications.get(t.application_id),
                 "customer": customers.get(applications[t.application_id].customer_id, {})
                 if t.application_id in applications else {},
                 "seconds_left": int((_aware(t.due_at) - now).total_seconds()), "mine": _mine(t)} for t in tasks]
        return self.render("lf/approvals/list.html", rows=rows)

    @expose("/<int:task_id>")
    def detail(self, task_id: int) -> Any:
        db = db_session()
        task = db.get(ApprovalTask, task_id) or abort(404)
        application = db.get(Application, task.application_id) or abort(404)
        customer = db.get(Customer, application.customer_id)
        seconds_left = int((_aware(task.due_at) - datetime.now(UTC)).total_seconds())
        return self.render("lf/approvals/detail.html", task=task, application=application, customer=masked(customer),
                           decision=application.decision or {}, seconds_left=seconds_left, mine=_mine(task),
                           already=any(e["actor"] == current_user.username for e in task.approvals),
                           revealed=None)

    @expose("/<int:task_id>/reveal", methods=["POST"])
    def reveal_applicant(self, task_id: int) -> Any:
        self.require("pii.reveal")
        db = db_session()
        task = db.get(ApprovalTask, task_id) or abort(404)
        application = db.get(Application, task.application_id) or abort(404)
        customer = db.get(Customer, application.customer_id) or abort(404)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("Say why you need to see the personal data."), "error")
            return redirect(url_for(".detail", task_id=task_id))
        clear = reveal(db, customer, actor=current_user.username, reason=reason,
                       context=f"application {application.id}")
        db.commit()
        return self.render("lf/approvals/detail.html", task=task, application=application, customer=clear,
                           decision=application.decision or {}, mine=_mine(task), already=True, revealed=True,
                           seconds_left=int((_aware(task.due_at) - datetime.now(UTC)).total_seconds()))

    @expose("/<int:task_id>/decide", methods=["POST"])
    def decide(self, task_id: int) -> Any:
        self.require("approval.decide")
        db = db_session()
        task = db.get(ApprovalTask, task_id) or abort(404)
        if not _mine(task):
            abort(403)
        verdict = request.form.get("decision")
        comment = (request.form.get("comment") or "").strip()
        if verdict not in ("approve", "reject"):
            abort(400)
        if verdict == "reject" and not comment:
            flash(_("A rejection needs a comment."), "error")
            return redirect(url_for(".detail", task_id=task_id))
        application = db.get(Application, task.application_id) or abort(404)
        before = {"task": task.state, "application": application.state, "approvals": len(task.approvals)}
        try:
            locked = task_by_id(db, task_id)
            decide_task(db, locked, offer_of_version(db, application.product_version_id), actor=current_user.username,
                        approve_it=verdict == "approve", note=comment or None)
            self.audit(f"approval.{verdict}", "application", application.id, before=before,
                       after={"task": locked.state, "application": application.state,
                              "approvals": len(locked.approvals)}, comment=comment)
            db.commit()
            flash(_("Application %(id)s: %(state)s.", id=application.id, state=application.state), "success")
        except LoanFactoryError as error:
            self.refuse(error)
            return redirect(url_for(".detail", task_id=task_id))
        return redirect(url_for(".index"))
