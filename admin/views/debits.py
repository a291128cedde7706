"""Automatic debits: the day's instructions and their answers, failures with the bank's reasons, one loan's
attempts and message log, and the manual retry.

The rules are the kernel's (:mod:`core.debits`, :mod:`core.messages`): this screen lists and filters, and a
retry (permission ``loan.repay``) is :func:`core.debits.manual.retry_now`, audited as ``debit.manual_retry``
in the same transaction; the next due run sends it. The account is shown by its last four digits only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from admin.base import SecureView
from core.debits.authorisations import of_loan
from core.debits.manual import retry_now, success_rates
from core.debits.models import DebitInstruction
from core.errors import LoanFactoryError
from core.loans.models import Loan, LoanInstallment
from core.messages.models import LoanMessage
from loanfactory import clock
from loanfactory.database import db_session

PAGE_SIZE = 100
STATES = ("created", "sending", "sent", "succeeded", "partial", "failed", "cancelled", "skipped", "stopped")


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        return clock.today()


class DebitsView(SecureView):
    permission = "loan.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        day = _day(request.args.get("day"))
        state = request.args.get("state") or ""
        query = select(DebitInstruction).where(DebitInstruction.scheduled_on == day)
        if state in STATES:
            query = query.where(DebitInstruction.state == state)
        page = max(request.args.get("page", 1, type=int), 1)
        rows = list(db.scalars(query.order_by(DebitInstruction.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        counts = dict(db.execute(select(DebitInstruction.state, func.count()).where(
            DebitInstruction.scheduled_on == day).group_by(DebitInstruction.state)).tuples().all())
        failures = db.execute(select(DebitInstruction.failure_code, DebitInstruction.failure_message, func.count())
                              .where(DebitInstruction.scheduled_on == day, DebitInstruction.state.in_(
                                  ("failed", "skipped", "stopped")))
                              .group_by(DebitInstruction.failure_code, DebitInstruction.failure_message)).all()
        return self.render("lf/debits/list.html", rows=rows, day=day.isoformat(), state=state, states=STATES,
                           counts=counts, failures=failures, rates=success_rates(db, day, day), page=page,
                           more=len(rows) == PAGE_SIZE)

    @expose("/loan/<int:loan_id>")
    def loan(self, loan_id: int) -> Any:
        db = db_session()
        loan = db.get(Loan, loan_id) or abort(404)
        rows = list(db.scalars(select(DebitInstruction).where(DebitInstruction.loan_id == loan_id)
                               .order_by(DebitInstruction.period, DebitInstruction.attempt)))
        messages = list(db.scalars(select(LoanMessage).where(LoanMessage.loan_id == loan_id)
                                   .order_by(LoanMessage.id)))
        open_periods = list(db.scalars(select(LoanInstallment.period).where(
            LoanInstallment.loan_id == loan_id, LoanInstallment.status.in_(("due", "overdue", "pending")),
            LoanInstallment.due_date <= clock.today()).order_by(LoanInstallment.period)))
        return self.render("lf/debits/loan.html", loan=loan, rows=rows, messages=messages,
                           authorisation=of_loan(db, loan), open_periods=open_periods)

    @expose("/loan/<int:loan_id>/retry", methods=["POST"])
    def retry(self, loan_id: int) -> Any:
        self.require("loan.repay")
        db = db_session()
        db.get(Loan, loan_id) or abort(404)
        try:
            period = int(request.form.get("period", ""))
        except ValueError:
            flash(_("Refused: %(reason)s", reason=_("choose an installment")), "error")
            return redirect(url_for(".loan", loan_id=loan_id))
        try:
            instruction = retry_now(db, loan_id=loan_id, period=period, on=clock.today(),
                                    actor=current_user.username)
            self.audit("debit.manual_retry", "loan", loan_id,
                       after={"period": period, "attempt": instruction.attempt, "amount": instruction.amount,
                              "request_id": instruction.request_id}, comment=request.form.get("comment", ""))
            db.commit()
            flash(_("Attempt %(attempt)d written; the next due run sends it.", attempt=instruction.attempt),
                  "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".loan", loan_id=loan_id))
