"""The approval inbox: applications the machines could not decide, for the role each step names.

A risk officer (or manager) sees the open tasks of their roles, oldest deadline first, with the SLA
counting down, and below them the applications returned to their channels with the time left to answer.
A task shows the application, the applicant with personal data masked, the whole credit report with
account numbers and amounts masked (revealing either is audited), the score with its reason codes, the
collateral and the history of the application's reviews: decisions, send-backs, returns and what the
channel resubmitted.

Actions, each for the role the task waits for, in one transaction with an audit event:

- approve or reject (:func:`core.origination.pipeline.decide_task`; a comment is required to reject);
- return for supplement (:func:`core.origination.returns.return_for_supplement`; a comment is required
  and shown to the channel, which has ``RETURN_RESUBMIT_DAYS`` days to answer);
- send back, in a four-eyes step, the first approval to its author (:func:`core.origination.approval.send_back`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin.approval_history import history, seconds_until, waiting_returns
from admin.base import SecureView
from admin.bureau import report_view, reveal_report
from admin.labels import moment_label
from admin.pii import masked, reveal
from admin.views.customers import document_kinds
from core.applications.models import Application
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef
from core.documents.files import documents_of
from core.errors import LoanFactoryError
from core.origination.approval import ApprovalTask, awaiting, current_round, open_tasks, send_back, task_by_id
from core.origination.bureau_reports import bureau_report_for
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version, version_number
from core.origination.returns import DEFAULT_RESUBMIT_DAYS, aware, return_for_supplement
from loanfactory.database import db_session


def _mine(task: ApprovalTask) -> bool:
    """Whether the signed-in user holds the role the task waits for."""
    return task.role in {role.value for role in current_user.roles}


def _snapshot(task: ApprovalTask, application: Application) -> dict[str, Any]:
    return {"task": task.state, "application": application.state, "approvals": len(current_round(task))}


def _subject_of(application: Application) -> PartyRef:
    """Whose documents an application's reviewer sees: its enterprise's, or its applicant's."""
    if application.enterprise_id is not None:
        return PartyRef(ENTERPRISE, application.enterprise_id)
    return PartyRef(INDIVIDUAL, application.customer_id)


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
        rows = [{"task": t, "application": applications.get(t.application_id),
                 "customer": customers.get(applications[t.application_id].customer_id, {})
                 if t.application_id in applications else {},
                 "seconds_left": seconds_until(t.due_at), "mine": _mine(t), "awaiting": awaiting(t),
                 "round": len([e for e in current_round(t) if e["approve"]])} for t in tasks]
        return self.render("lf/approvals/list.html", rows=rows, returns=waiting_returns(db))

    def _page(self, task: ApprovalTask, *, customer: dict[str, Any] | None = None,
              bureau: dict[str, Any] | None = None, revealed: str | None = None) -> Any:
        db = db_session()
        application = db.get(Application, task.application_id) or abort(404)
        report = bureau_report_for(db, application.id)
        waiting_for = awaiting(task)
        kinds = document_kinds()
        first_approvers = [e["actor"] for e in current_round(task) if e["approve"]]
        return self.render(
            "lf/approvals/detail.html", task=task, application=application, decision=application.decision or {},
            reason_meanings=reason_meanings(application.decision or {}),
            product_version=version_number(db, application.product_version_id),
            customer=customer or masked(db.get(Customer, application.customer_id)),
            bureau=bureau or (report_view(report) if report else None), revealed=revealed,
            seconds_left=seconds_until(task.due_at), mine=_mine(task), awaiting=waiting_for,
            may_act=(task.state == "open" and _mine(task) and waiting_for in (None, current_user.username)),
            already=any(e["actor"] == current_user.username for e in current_round(task)),
            may_send_back=bool(task.four_eyes and first_approvers and current_user.username not in first_approvers),
            history=history(db, application.id), documents=documents_of(db, _subject_of(application), application.id),
            kinds=kinds, missing_documents=[kinds.get(k, k) for k in (application.decision or {}).get(
                "missing_documents", [])],
            resubmit_days=self._resubmit_days())

    @staticmethod
    def _resubmit_days() -> int:
        return int(current_app.config.get("RETURN_RESUBMIT_DAYS", DEFAULT_RESUBMIT_DAYS))

    @expose("/<int:task_id>")
    def detail(self, task_id: int) -> Any:
        return self._page(db_session().get(ApprovalTask, task_id) or abort(404))

    def _reveal(self, task_id: int, show: Callable[[ApprovalTask, Application, str], dict[str, Any]],
                kind: str) -> Any:
        self.require("pii.reveal")
        db = db_session()
        task = db.get(ApprovalTask, task_id) or abort(404)
        application = db.get(Application, task.application_id) or abort(404)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("Say why you need to see the personal data."), "error")
            return redirect(url_for(".detail", task_id=task_id))
        shown = show(task, application, reason)
        db.commit()
        return self._page(task, revealed=kind, **{kind: shown})

    @expose("/<int:task_id>/reveal", methods=["POST"])
    def reveal_applicant(self, task_id: int) -> Any:
        def clear(_task: ApprovalTask, application: Application, reason: str) -> dict[str, Any]:
            customer = db_session().get(Customer, application.customer_id) or abort(404)
            return reveal(db_session(), customer, actor=current_user.username, reason=reason,
                          context=f"application {application.id}")

        return self._reveal(task_id, clear, "customer")

    @expose("/<int:task_id>/reveal-bureau", methods=["POST"])
    def reveal_bureau(self, task_id: int) -> Any:
        def clear(_task: ApprovalTask, application: Application, reason: str) -> dict[str, Any]:
            report = bureau_report_for(db_session(), application.id) or abort(404)
            return reveal_report(db_session(), report, actor=current_user.username, reason=reason,
                                 application_id=application.id)

        return self._reveal(task_id, clear, "bureau")

    def _act(self, task_id: int, action: str, change: Callable[[ApprovalTask, Application], str | None]) -> Response:
        """Run ``change`` on the locked task for the role it waits for, audited, in one transaction."""
        self.require("approval.decide")
        db = db_session()
        task = db.get(ApprovalTask, task_id) or abort(404)
        if not _mine(task):
            abort(403)
        application = db.get(Application, task.application_id) or abort(404)
        comment = (request.form.get("comment") or "").strip()
        before = _snapshot(task, application)
        try:
            locked = task_by_id(db, task_id)
            message = change(locked, application)
            self.audit(action, "application", application.id, before=before, after=_snapshot(locked, application),
                       comment=comment)
            db.commit()
        except LoanFactoryError as error:
            self.refuse(error)
            return redirect(url_for(".detail", task_id=task_id))
        flash(message or _("Application %(id)s: %(state)s.", id=application.id, state=application.state), "success")
        return redirect(url_for(".index"))

    @expose("/<int:task_id>/decide", methods=["POST"])
    def decide(self, task_id: int) -> Response:
        verdict = request.form.get("decision")
        comment = (request.form.get("comment") or "").strip()
        if verdict not in ("approve", "reject"):
            abort(400)
        if verdict == "reject" and not comment:
            self.require("approval.decide")
            flash(_("A rejection needs a comment."), "error")
            return redirect(url_for(".detail", task_id=task_id))

        def decide_it(task: ApprovalTask, application: Application) -> None:
            decide_task(db_session(), task, offer_of_version(db_session(), application.product_version_id),
                        actor=current_user.username, approve_it=verdict == "approve", note=comment or None)

        return self._act(task_id, f"approval.{verdict}", decide_it)

    @expose("/<int:task_id>/return", methods=["POST"])
    def return_application(self, task_id: int) -> Response:
        comment = request.form.get("comment")

        def return_it(task: ApprovalTask, application: Application) -> str:
            record = return_for_supplement(db_session(), task, actor=current_user.username, comment=comment,
                                           resubmit_days=self._resubmit_days())
            return _("Application %(id)s returned to %(channel)s for supplement; it must answer by %(date)s.",
                     id=application.id, channel=application.channel,
                     date=moment_label(aware(record.resubmit_by)))

        return self._act(task_id, "approval.return", return_it)

    @expose("/<int:task_id>/send-back", methods=["POST"])
    def send_back_approval(self, task_id: int) -> Response:
        comment = request.form.get("comment")

        def send_it(task: ApprovalTask, _application: Application) -> str:
            first = send_back(task, actor=current_user.username, comment=comment)
            return _("Task %(id)s sent back to %(user)s.", id=task.id, user=first)

        return self._act(task_id, "approval.send_back", send_it)


def reason_meanings(decision: dict[str, Any]) -> dict[str, str]:
    """Reason code -> what it means, in the user's language, from what the scoring plugin said when it
    scored (``decision["reason_meanings"]``): its sentence in Chinese, the characteristic in English."""
    meanings = decision.get("reason_meanings")
    if not isinstance(meanings, dict):
        return {}
    chinese = str(get_locale() or "zh_CN").startswith("zh")
    return {code: str(meaning.get("description") if chinese else
                      str(meaning.get("characteristic", "")).replace("_", " "))
            for code, meaning in meanings.items() if isinstance(meaning, dict)}
