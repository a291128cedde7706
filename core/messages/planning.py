"""Which messages a business day and a debit's answer call for, written to the loan's message log.

:func:`plan_day` (the due run calls it for its business date; set-based, a query per product version and
kind) writes, for every live loan of a product that has a notifications plugin:

* ``reminder`` for each unsettled installment falling due ``days_before`` days later;
* ``due_today`` for each unsettled installment falling due that day;
* ``overdue`` for each unsettled installment on each of the ``overdue_days`` after its due date;
* ``paid_off`` for each loan that closed that day;

and :func:`debit_answered` writes ``debit_succeeded`` / ``debit_failed`` for a debit's answer (and
``paid_off`` when it closed the loan). The key makes each message once, whoever plans it how often. Only
what is not personal goes into the log's variables (amounts, dates, the card's last four digits); the name
and the recipient are read from the customer when it is sent. The message may be sent from ``send_after``:
the moment it was planned (:mod:`core.messages.sending` keeps the window and the cap).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from core.db.bulk import insert_new
from core.loans.models import Loan, LoanInstallment
from core.messages.models import TEMPLATES as _TEMPLATE_OF
from core.messages.models import LoanMessage
from core.messages.policy import MessagePolicy
from core.products.models import ProductVersion

LIVE = ("active", "overdue")
UNSETTLED = ("pending", "due", "overdue")
CLOSED = ("paid_off", "prepaid_closed")
_MESSAGES = cast(Table, LoanMessage.__table__)


def _fen(amount: Decimal) -> str:
    return f"{amount:.2f}"


def senders(session: Session) -> dict[int, tuple[str, MessagePolicy, Mapping[str, list[str]]]]:
    """Per product version with a notifications plugin: the plugin, the policy, and the channels of each
    template event the product defines (``sms`` when it defines none)."""
    found: dict[int, tuple[str, MessagePolicy, Mapping[str, list[str]]]] = {}
    for version_id, document in session.execute(select(ProductVersion.id, ProductVersion.document)):
        plugin = (document.get("plugins") or {}).get("notifications")
        if plugin:
            channels = {t["event"]: list(t["channels"]) for t in document.get("notifications") or []}
            found[version_id] = (str(plugin), MessagePolicy.of(document), channels)
    return found


def _row(loan_id: int, customer_id: int, event: str, period: int | None, on: date, key_tail: str, plugin: str,
         channel: str, variables: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"key": f"{loan_id}:{event}:{period or 0}:{key_tail}:{channel}", "loan_id": loan_id,
            "customer_id": customer_id, "event": event, "period": period, "business_date": on, "channel": channel,
            "plugin": plugin, "variables": variables, "state": "pending", "send_after": now, "deferrals": 0,
            "attempts": 0, "created_at": now}


def _installment_messages(session: Session, version_id: int, event: str, due: date, on: date, plugin: str,
                          channels: list[str], now: datetime, tail: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Loan.id, Loan.customer_id, Loan.days_past_due, LoanInstallment.period, LoanInstallment.due_date,
               LoanInstallment.principal, LoanInstallment.interest, LoanInstallment.fee, LoanInstallment.penalty,
               LoanInstallment.paid_principal, LoanInstallment.paid_interest, LoanInstallment.paid_fee,
               LoanInstallment.paid_penalty, LoanInstallment.waived_penalty)
        .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
        .where(Loan.product_version_id == version_id, Loan.state.in_(LIVE), LoanInstallment.due_date == due,
               LoanInstallment.status.in_(UNSETTLED))).all()
    out = []
    for r in rows:
        owed = (r.principal - r.paid_principal + r.interest - r.paid_interest + r.fee - r.paid_fee + r.penalty
                - r.paid_penalty - r.waived_penalty)
        variables = {"installment": str(r.period), "due_amount": _fen(owed), "due_date": r.due_date.isoformat(),
                     "days_past_due": str((on - r.due_date).days)}
        out += [_row(r.id, r.customer_id, event, r.period, on, tail, plugin, c, variables, now) for c in channels]
    return out


def plan_day(session: Session, on: date, now: datetime | None = None) -> int:
    """Write the day's reminders, due-day and overdue messages and paid-off notes; returns how many are new."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rows: list[dict[str, Any]] = []
    for version_id, (plugin, policy, channels) in senders(session).items():
        def kind(event: str, channels: Mapping[str, list[str]] = channels) -> list[str]:
            return channels.get(_TEMPLATE_OF[event]) or ["sms"]

        if policy.days_before:
            rows += _installment_messages(session, version_id, "reminder", on + timedelta(days=policy.days_before),
                                          on, plugin, kind("reminder"), now, "0")
        rows += _installment_messages(session, version_id, "due_today", on, on, plugin, kind("due_today"), now, "0")
        for days in policy.overdue_days:
            rows += _installment_messages(session, version_id, "overdue", on - timedelta(days=days), on, plugin,
                                          kind("overdue"), now, str(days))
        closed = session.execute(select(Loan.id, Loan.customer_id).where(
            Loan.product_version_id == version_id, Loan.state.in_(CLOSED), Loan.closed_on == on)).all()
        rows += [_row(loan_id, customer_id, "paid_off", None, on, "0", plugin, c, {}, now)
                 for loan_id, customer_id in closed for c in kind("paid_off")]
    return insert_new(session, _MESSAGES, rows, ("key",)) if rows else 0


def debit_answered(session: Session, *, loan: Loan, period: int, attempt: int, succeeded: bool, amount: Decimal,
                   reason: str, account_tail: str, on: date, now: datetime | None = None) -> int:
    """Write the receipt or the failure notice of one debit (and the paid-off note if it closed the loan)."""
    found = senders(session).get(loan.product_version_id)
    if found is None:
        return 0
    plugin, _policy, channels = found
    now = (now or datetime.now(UTC)).astimezone(UTC)
    event = "debit_succeeded" if succeeded else "debit_failed"
    outstanding = sum((principal - paid for principal, paid in session.execute(  # exact: SQLite sums in floats
        select(LoanInstallment.principal, LoanInstallment.paid_principal).where(LoanInstallment.loan_id == loan.id))),
        Decimal(0))
    variables = {"installment": str(period), "due_amount": _fen(amount), "paid_amount": _fen(amount),
                 "account_tail": account_tail, "reason": reason, "outstanding": _fen(outstanding)}
    rows = [_row(loan.id, loan.customer_id, event, period, on, str(attempt), plugin, c, variables, now)
            for c in channels.get(_TEMPLATE_OF[event]) or ["sms"]]
    if loan.state in CLOSED:
        rows += [_row(loan.id, loan.customer_id, "paid_off", None, on, "0", plugin, c, {}, now)
                 for c in channels.get("settled") or ["sms"]]
    return insert_new(session, _MESSAGES, rows, ("key",))
