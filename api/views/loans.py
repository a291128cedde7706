"""Loans: detail, schedule, balances, repayments, prepayment quotes and prepayments.

Servicing is the kernel's (:mod:`core.loans`); these views check the channel owns the loan, read the
body, and pass the channel's ``Idempotency-Key`` on as the servicing request key, so a retried repayment
posts once even if it reaches the kernel twice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from api import clock
from api.auth import current_client
from api.body import json_body, unknown_fields
from api.pagination import page_args, paginate
from api.problems import invalid
from api.serialize import iso, money
from api.transactions import idempotent, transactional
from core.applications.models import Application
from core.errors import InputError
from core.inputs import parse_date, parse_text
from core.ledger.projection import loan_balances
from core.loans.events import ServicingEvent
from core.loans.models import Loan, LoanInstallment
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import repay
from core.money import parse_money
from core.origination.errors import NotFoundError
from core.origination.published import version_number
from loanfactory.database import db_session
from loanfactory.settings import overpayment_multiple

#: the longest ``reference`` a repayment may carry (the channel's own; the document's ``maxLength``)
MAX_REFERENCE = 120


def loan_json(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id, "application_id": loan.application_id, "product_code": loan.product_code,
        "product_version": version_number(db_session(), loan.product_version_id), "state": loan.state,
        "principal": money(loan.principal),
        "annual_rate": f"{loan.annual_rate.normalize():f}", "method": loan.method,
        "disbursed_on": iso(loan.disbursed_on), "maturity_date": iso(loan.maturity_date),
        "closed_on": iso(loan.closed_on), "days_past_due": loan.days_past_due, "bucket": loan.bucket,
        "five_tier": loan.five_tier,
        "links": {"self": url_for("api.get_loan", loan_id=loan.id),
                  "schedule": url_for("api.get_schedule", loan_id=loan.id),
                  "balances": url_for("api.get_balances", loan_id=loan.id),
                  "repayments": url_for("api.list_repayments", loan_id=loan.id),
                  "prepayment_quotes": url_for("api.quote_prepayment", loan_id=loan.id)},
    }


def installment_json(row: LoanInstallment) -> dict[str, Any]:
    """One installment: what it asks for (``total``: principal, interest, fee and penalty, as a quote's
    installment), what was paid of each, and ``outstanding``, what is still owed of it (the waived penalty
    is not)."""
    total = row.principal + row.interest + row.fee + row.penalty
    paid = row.paid_principal + row.paid_interest + row.paid_fee + row.paid_penalty + row.waived_penalty
    return {"period": row.period, "due_date": iso(row.due_date), "state": row.status,
            "principal": money(row.principal), "interest": money(row.interest), "fee": money(row.fee),
            "penalty": money(row.penalty),
            "total": money(total),
            "paid_principal": money(row.paid_principal),
            "paid_interest": money(row.paid_interest), "paid_fee": money(row.paid_fee),
            "paid_penalty": money(row.paid_penalty), "outstanding": money(total - paid),
            "paid_on": iso(row.paid_on)}


def channel_loan(loan_id: int) -> Loan:
    """The calling channel's loan (another channel's is not found either)."""
    session = db_session()
    loan = session.get(Loan, loan_id)
    channel = session.scalar(select(Application.channel).where(Application.id == loan.application_id)) if loan else None
    if loan is None or channel != current_client().channel:
        raise NotFoundError(f"loan {loan_id} not found", field="loan_id", value=loan_id)
    return loan


def _date(data: dict[str, Any], name: str, problems: list[tuple[str, str]]) -> date:
    if data.get(name) is None:
        return clock.today()
    try:
        return parse_date(data[name], name)
    except InputError as error:
        problems.append((f"/{name}", error.reason))
        return clock.today()


def _amount(data: dict[str, Any], name: str, problems: list[tuple[str, str]], *, required: bool) -> Decimal | None:
    if data.get(name) is None:
        if required:
            problems.append((f"/{name}", "is required"))
        return None
    try:
        return parse_money(data[name], name, positive=True)
    except InputError as error:
        problems.append((f"/{name}", error.reason))
        return None


def _key(name: str) -> str:
    from flask import request

    return f"api:{current_client().id}:{name}:{request.headers.get('Idempotency-Key', '')}"


def allocation_json(result: dict[str, Any]) -> dict[str, Any]:
    """The kernel's allocation (``lines`` of ``[period, component, amount]``, ``excess``) as named fields."""
    return {"lines": [{"period": period, "component": component, "amount": money(Decimal(amount))}
                      for period, component, amount in result.get("lines", [])],
            "excess": money(Decimal(result.get("excess", "0")))}


def event_json(event: ServicingEvent, loan_state: str | None) -> dict[str, Any]:
    """A repayment: how much, on which day, where it went (``allocated``; ``excess`` is kept as overpayment),
    and the loan's state after it (``None`` in a list, where the loan's own ``state`` says it)."""
    return {"id": event.id, "loan_id": event.loan_id, "amount": money(event.amount),
            "paid_on": iso(event.business_date), "state": event.status, "allocated": allocation_json(event.result),
            "loan_state": loan_state}


def prepayment_request(data: dict[str, Any]) -> tuple[Decimal | None, date, str]:
    """``(principal or None for all, on, mode)`` of a prepayment quote or execution; a 422 naming every bad
    field, ``mode`` included, as the document's ``PrepaymentRequest`` says."""
    problems = unknown_fields(data, {"amount", "on", "mode"})
    principal = _amount(data, "amount", problems, required=False)
    on = _date(data, "on", problems)
    mode = data.get("mode", "keep_term")
    if mode not in ("keep_term", "keep_installment"):
        problems.append(("/mode", "must be keep_term or keep_installment"))
    if problems:
        raise invalid(problems)
    return principal, on, mode


def register(bp: Blueprint) -> None:
    @bp.get("/loans")
    def list_loans() -> Response:
        query = (select(Loan).join(Application, Application.id == Loan.application_id)
                 .where(Application.channel == current_client().channel).order_by(Loan.id.desc()))
        rows, page = paginate(db_session(), query, "api.list_loans")
        return jsonify({"items": [loan_json(loan) for loan in rows], "page": page})

    @bp.get("/loans/<int:loan_id>")
    def get_loan(loan_id: int) -> Response:
        return jsonify(loan_json(channel_loan(loan_id)))

    @bp.get("/loans/<int:loan_id>/schedule")
    def get_schedule(loan_id: int) -> Response:
        loan = channel_loan(loan_id)
        rows = db_session().scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan.id)
                                    .order_by(LoanInstallment.period))
        return jsonify({"loan_id": loan.id, "installments": [installment_json(r) for r in rows]})

    @bp.get("/loans/<int:loan_id>/balances")
    def get_balances(loan_id: int) -> Response:
        """What the borrower owes: the loan's row of the balance projection, which every post keeps in its
        own transaction and the journal proves (``loanfactory ledger verify-projection``)."""
        loan = channel_loan(loan_id)
        balances = loan_balances(db_session(), loan.id)
        return jsonify({"loan_id": loan.id, "principal": money(balances.principal),
                        "interest": money(balances.interest), "fee": money(balances.fee),
                        "penalty": money(balances.penalty), "total": money(balances.receivable),
                        "overpayment": money(balances.suspense)})

    @bp.post("/loans/<int:loan_id>/repayments")
    @idempotent
    def repay_loan(loan_id: int) -> tuple[Response, int]:
        """A repayment the borrower made through the loan's payment channel, allocated by the contract."""
        data = json_body()
        problems = unknown_fields(data, {"amount", "paid_on", "reference"})
        amount = _amount(data, "amount", problems, required=True)
        on = _date(data, "paid_on", problems)
        if data.get("reference") is not None:
            try:
                parse_text(data["reference"], "reference", MAX_REFERENCE)
            except InputError as error:
                problems.append(("/reference", error.reason))
        if problems:
            raise invalid(problems)
        loan = channel_loan(loan_id)
        event = repay(db_session(), loan_id=loan.id, amount=amount, on=on, today=clock.today(),
                      channel=loan.payment_channel or "api", key=_key("repayment"),
                      actor=f"channel:{current_client().channel}", overpayment_multiple=overpayment_multiple())
        db_session().refresh(loan)
        return jsonify(event_json(event, loan.state)), 201

    @bp.get("/loans/<int:loan_id>/repayments")
    def list_repayments(loan_id: int) -> Response:
        """The loan's repayments, newest first (posted and reversed); the paging is checked first."""
        page_args()
        loan = channel_loan(loan_id)
        query = (select(ServicingEvent).where(ServicingEvent.loan_id == loan.id, ServicingEvent.kind == "repayment")
                 .order_by(ServicingEvent.id.desc()))
        rows, page = paginate(db_session(), query, "api.list_repayments", loan_id=loan.id)
        return jsonify({"items": [event_json(e, None) for e in rows], "page": page})

    @bp.post("/loans/<int:loan_id>/prepayment-quotes")
    @transactional
    def quote_prepayment(loan_id: int) -> Response:
        """What prepaying all (no ``amount``) or ``amount`` of the principal costs on a date."""
        principal, on, _mode = prepayment_request(json_body())
        loan = channel_loan(loan_id)
        quote = prepayment_quote(db_session(), loan_id=loan.id, on=on, today=clock.today(), principal=principal)
        return jsonify({"loan_id": loan.id, **quote.as_dict()})

    @bp.post("/loans/<int:loan_id>/prepayments")
    @idempotent
    def prepay_loan(loan_id: int) -> tuple[Response, int]:
        """Prepay all or ``amount`` of the principal, paying the quoted total on ``on``."""
        principal, on, mode = prepayment_request(json_body())
        loan = channel_loan(loan_id)
        session = db_session()
        today = clock.today()
        quote = prepayment_quote(session, loan_id=loan.id, on=on, today=today, principal=principal)
        event = prepay(session, loan_id=loan.id, amount=quote.payable, on=on, today=today,
                       channel=loan.payment_channel or "api", key=_key("prepayment"),
                       actor=f"channel:{current_client().channel}", principal=principal, mode=mode,
                       overpayment_multiple=overpayment_multiple())
        session.refresh(loan)
        return jsonify({"loan_id": loan.id, **quote.as_dict(), "event_id": event.id, "loan_state": loan.state}), 201
