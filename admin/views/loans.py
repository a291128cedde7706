"""Loans: search, detail (schedule, ledger, events, repayments) and the servicing actions.

Operations and finance record offline repayments and prepayments directly (each with an idempotency key
drawn when the form is shown, so a double click posts once). A prepayment is quoted first
(:func:`core.loans.prepayment.prepayment_quote`: full or partial, broken interest, fee, re-scheduling
mode, the loan brought to the date) and the operator confirms exactly that total; the kernel refuses the
confirmation if the quote changed in between (an end-of-day ran, a repayment arrived) and the operator
quotes again, and refuses both before the contract's prepayment window opens.

The quote nets the overpayment suspense already held for the loan; when a full prepayment would still leave
money held, the operator must tick "keep it for a refund", and the loan page then offers the refund request.

Penalty waivers, write-offs and refunds of money held are dual control: one user files the request here, a
second user holding the approving permission decides it on the requests page, and the kernel carries an
approval out in the same transaction (:func:`core.loans.adjustments.decide_adjustment`; a refund through
:func:`core.debits.refunds.decide_refund`, the only refund path: back to the card a debit collected it from,
or paid out offline). The loan page offers the refund request only while money is held.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.base import SecureView
from admin.labels import code_label
from admin.pii import masked, reveal
from core.backoffice.audit import CHANGE_KINDS, ChangeRequest, pending_changes, request_change
from core.backoffice.users import can
from core.customers.parties import Customer
from core.customers.pii import mask_id_number, mask_phone
from core.customers.search import find_customers
from core.debits.refunds import KIND as REFUND
from core.debits.refunds import decide_refund, file_refund
from core.errors import InvalidArgumentError, LoanFactoryError
from core.ledger.models import JournalEntry
from core.loans.adjustments import decide_adjustment
from core.loans.context import suspense_of
from core.loans.events import ServicingEvent
from core.loans.models import Loan, LoanInstallment
from core.loans.nonaccrual import suspended_balances
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import repay
from core.origination.published import version_number
from core.schedule import RescheduleMode
from core.schedule.terms import parse_enum
from core.states import LOAN_STATES
from loanfactory import clock
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins
from loanfactory.settings import overpayment_multiple

PAGE_SIZE = 50
OFFLINE_CHANNEL = "offline"
#: the dual-control requests a loan's page files and decides (credit lines have their own page)
LOAN_KINDS = ("penalty_waiver", "write_off", REFUND)


def _business_date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise InvalidArgumentError(f"business_date: {text!r} is not a date (YYYY-MM-DD)",
                                   field="business_date") from None


def _snapshot(loan: Loan) -> dict[str, Any]:
    return {"state": loan.state, "bucket": loan.bucket, "five_tier": loan.five_tier,
            "days_past_due": loan.days_past_due}


class LoansView(SecureView):
    permission = "loan.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        query = select(Loan)
        term = (request.args.get("q") or "").strip()
        if term.isdigit() and len(term) < 11:
            query = query.where(Loan.id == int(term))
        elif term:
            query = query.where(Loan.customer_id.in_(_customers_matching(db, term)))
        for key in ("state", "bucket", "product_code"):
            if request.args.get(key):
                query = query.where(getattr(Loan, key) == request.args[key])
        page = max(request.args.get("page", 1, type=int), 1)
        loans = list(db.scalars(query.order_by(Loan.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        customers = {c.id: masked(c) for c in db.scalars(select(Customer).where(
            Customer.id.in_({loan.customer_id for loan in loans})))}
        shown = term if len(term) < 11 else (mask_phone(term) if len(term) == 11 else mask_id_number(term))
        following = None
        if len(loans) == PAGE_SIZE:
            following = {**request.args, "page": page + 1}
            if shown != term:
                following.pop("q")
        return self.render("lf/loans/list.html", loans=loans, customers=customers, q=shown, following=following,
                           states=sorted(LOAN_STATES.states), args=request.args)

    @expose("/<int:loan_id>")
    def detail(self, loan_id: int) -> Any:
        db = db_session()
        loan = db.get(Loan, loan_id)
        if loan is None:
            abort(404)
        installments = list(db.scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan_id)
                                       .order_by(LoanInstallment.period)))
        entries = list(db.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan_id)
                                  .order_by(JournalEntry.id)))
        events = list(db.scalars(select(ServicingEvent).where(ServicingEvent.loan_id == loan_id)
                                 .order_by(ServicingEvent.id)))
        requests = list(db.scalars(select(ChangeRequest).where(ChangeRequest.entity_type == "loan",
                                                               ChangeRequest.entity_id == str(loan_id))
                                   .order_by(ChangeRequest.id)))
        suspended = {component.name: held for _, component, held in suspended_balances(db, [loan_id])}
        return self.render("lf/loans/detail.html", loan=loan, installments=installments, entries=entries,
                           suspended=suspended,
                           product_version=version_number(db, loan.product_version_id),
                           events=events, transitions=LOAN_STATES.history(db, loan_id), requests=requests,
                           customer=masked(db.get(Customer, loan.customer_id)), today=clock.today().isoformat(),
                           held=suspense_of(db, loan_id),
                           form_key=uuid.uuid4().hex, revealed=None)

    @expose("/<int:loan_id>/reveal", methods=["POST"])
    def reveal_customer(self, loan_id: int) -> Any:
        self.require("pii.reveal")
        db = db_session()
        loan = db.get(Loan, loan_id) or abort(404)
        customer = db.get(Customer, loan.customer_id) or abort(404)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("Say why you need to see the personal data."), "error")
            return redirect(url_for(".detail", loan_id=loan_id))
        clear = reveal(db, customer, actor=current_user.username, reason=reason, context=f"loan {loan_id}")
        db.commit()
        return self.render("lf/revealed_person.html", customer=clear, back_label=_("Back to the loan"),
                           back_url=url_for(".detail", loan_id=loan_id))

    def _operate(self, loan_id: int, permission: str, action: str, run: Any) -> Any:
        self.require(permission)
        db = db_session()
        loan = db.get(Loan, loan_id) or abort(404)
        before = _snapshot(loan)
        try:
            event = run(db, loan)
            self.audit(action, "loan", loan_id, before=before,
                       after={**_snapshot(loan), "event": event.id, "amount": event.amount, "result": event.result},
                       comment=request.form.get("comment", ""))
            db.commit()
            flash(_("Done: %(action)s.", action=code_label(action)), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".detail", loan_id=loan_id))

    @expose("/<int:loan_id>/repay", methods=["POST"])
    def record_repayment(self, loan_id: int) -> Any:
        def run(db: Any, loan: Loan) -> ServicingEvent:
            return repay(db, loan_id=loan.id, amount=request.form.get("amount", ""),
                         on=_business_date(request.form.get("business_date")), today=clock.today(),
                         channel=OFFLINE_CHANNEL, key=f"admin:repay:{request.form.get('key', '')}",
                         actor=current_user.username, overpayment_multiple=overpayment_multiple())
        return self._operate(loan_id, "loan.repay", "loan.repay_offline", run)

    @expose("/<int:loan_id>/prepay/quote")
    def prepayment_quote_page(self, loan_id: int) -> Any:
        """The quote (full or partial, fee, re-scheduling mode) the operator confirms; nothing is written."""
        self.require("loan.prepay")
        db = db_session()
        loan = db.get(Loan, loan_id) or abort(404)
        principal = (request.args.get("principal") or "").strip() or None
        try:
            on = _business_date(request.args.get("business_date"))
            mode = parse_enum(RescheduleMode, request.args.get("mode") or RescheduleMode.KEEP_TERM, "mode")
            quote = prepayment_quote(db, loan_id=loan_id, on=on, today=clock.today(), principal=principal)
        except LoanFactoryError as error:
            self.refuse(error)
            return redirect(url_for(".detail", loan_id=loan_id))
        db.rollback()  # the quote locked the loan to read it consistently; release it
        return self.render("lf/loans/prepay_quote.html", loan=loan, quote=quote, figures=quote.as_dict(),
                           mode=mode.value, principal=principal or "", form_key=uuid.uuid4().hex)

    @expose("/<int:loan_id>/prepay", methods=["POST"])
    def record_prepayment(self, loan_id: int) -> Any:
        """Execute the quote the operator saw: refused if the loan's quote changed since (quote again)."""
        def run(db: Any, loan: Loan) -> ServicingEvent:
            quoted = request.form.get("quoted_total", "")
            return prepay(db, loan_id=loan.id, amount=quoted, quoted_total=quoted,
                          keep_for_refund=request.form.get("keep_for_refund") == "yes",
                          on=_business_date(request.form.get("business_date")), today=clock.today(),
                          channel=OFFLINE_CHANNEL, principal=request.form.get("principal") or None,
                          key=f"admin:prepay:{request.form.get('key', '')}", actor=current_user.username,
                          mode=request.form.get("mode") or "keep_term", overpayment_multiple=overpayment_multiple())
        return self._operate(loan_id, "loan.prepay", "loan.prepay", run)

    @expose("/<int:loan_id>/request/<kind>", methods=["POST"])
    def file_request(self, loan_id: int, kind: str) -> Any:
        if kind not in LOAN_KINDS:
            abort(404)
        self.require(CHANGE_KINDS[kind][0])
        db = db_session()
        db.get(Loan, loan_id) or abort(404)
        try:
            on = _business_date(request.form.get("business_date"))
            reason = request.form.get("reason", "")
            if kind == REFUND:
                file_refund(db, maker=current_user, loan_id=loan_id, amount=request.form.get("amount", ""), on=on,
                            reason=reason)
            else:
                params: dict[str, Any] = {"business_date": on}
                if kind == "penalty_waiver":
                    params["amount"] = request.form.get("amount", "")
                request_change(db, maker=current_user, kind=kind, entity_type="loan", entity_id=loan_id,
                               params=params, reason=reason)
            db.commit()
            flash(_("Request filed; a second person must approve it."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".detail", loan_id=loan_id))

    @expose("/requests")
    def requests(self) -> Any:
        kinds = tuple(k for k in LOAN_KINDS if can(current_user, CHANGE_KINDS[k][1]))
        return self.render("lf/change_requests.html", requests=pending_changes(db_session(), kinds),
                           mine=pending_changes(db_session(), LOAN_KINDS), entity_label=_("Loan"),
                           detail_endpoint=".detail", id_arg="loan_id")

    @expose("/requests/<int:request_id>", methods=["POST"])
    def decide(self, request_id: int) -> Any:
        db = db_session()
        change = db.get(ChangeRequest, request_id) or abort(404)
        if change.kind not in LOAN_KINDS:
            abort(404)
        self.require(CHANGE_KINDS[change.kind][1])
        approve = request.form.get("decision") == "approve"
        comment = request.form.get("comment", "")
        try:
            if change.kind == REFUND:
                decide_refund(db, get_plugins(), change, checker=current_user, approve=approve, today=clock.today(),
                              comment=comment)
            else:
                decide_adjustment(db, change, checker=current_user, approve=approve, comment=comment)
            db.commit()
            flash(_("Request %(id)s %(state)s.", id=change.id, state=code_label(change.state)), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".requests"))


def _customers_matching(db: Any, text: str) -> list[int]:
    """Customers whose phone or ID number is ``text`` (through the blind indexes; junk matches nobody)."""
    return [customer.id for customer in find_customers(db, text).customers]
