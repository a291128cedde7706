"""Sending the messages that are due, within the product's hours and each borrower's daily cap.

:func:`send_due` takes the ``pending`` messages whose ``send_after`` has come (``FOR UPDATE SKIP LOCKED``)
and for each: outside the window (08:00–21:00 in the lender's zone by default) it moves ``send_after`` to the next
opening; when the borrower already got ``daily_cap`` messages that local day it moves it to the next day's
opening (both counted in ``deferrals``); otherwise it calls the product's ``notification_send`` with the
message's key as the request id, the template of its event (the product's own text when it has one), the
customer's name and phone, and records the outcome. A refusal (unknown template, a missing variable, a bad
recipient, a plugin the deployment lacks) fails the message; a provider that breaks or times out leaves it
pending, the error recorded, to be tried again in ten minutes. The plugin runs in a savepoint, so one
message's failure touches nothing else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.businessday.clock import lender_zone
from core.customers.parties import Customer
from core.loans.models import Loan
from core.messages.models import TEMPLATES, LoanMessage
from core.messages.policy import MessagePolicy
from core.plugins.manager import PluginManager
from core.plugins.types import NotificationRequest, PluginFailure, PluginNotFoundError
from core.products.models import ProductVersion

RETRY_AFTER = timedelta(minutes=10)


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    retrying: int = 0


def _product_text(document: dict[str, Any], template: str) -> str | None:
    for entry in document.get("notifications") or []:
        if entry["event"] == template:
            return str(entry["text"]["zh"])
    return None


def _sent_today(session: Session, customer_ids: set[int], now: datetime) -> Counter[int]:
    local = now.astimezone(lender_zone())
    start = datetime.combine(local.date(), time(0), lender_zone()).astimezone(UTC)
    counts = session.execute(select(LoanMessage.customer_id, func.count()).where(
        LoanMessage.customer_id.in_(customer_ids), LoanMessage.state == "sent", LoanMessage.sent_at >= start,
        LoanMessage.sent_at < start + timedelta(days=1)).group_by(LoanMessage.customer_id)).all()
    return Counter({customer_id: int(count) for customer_id, count in counts})


def send_due(session: Session, plugins: PluginManager, *, now: datetime, limit: int = 500) -> SendReport:
    """Send (or defer) up to ``limit`` due messages; the caller commits."""
    now = now.astimezone(UTC)
    report = SendReport()
    rows = list(session.scalars(select(LoanMessage).where(LoanMessage.state == "pending",
                                                         LoanMessage.send_after <= now)
                                .order_by(LoanMessage.id).limit(limit).with_for_update(skip_locked=True)))
    if not rows:
        return report
    loans = {loan.id: loan for loan in session.scalars(select(Loan).where(Loan.id.in_({r.loan_id for r in rows})))}
    documents = dict(session.execute(select(ProductVersion.id, ProductVersion.document).where(
        ProductVersion.id.in_({loan.product_version_id for loan in loans.values()}))).tuples().all())
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({r.customer_id for r in rows})))}
    sent_today = _sent_today(session, set(customers), now)
    for row in rows:
        document = documents[loans[row.loan_id].product_version_id]
        policy = MessagePolicy.of(document)
        if not policy.in_window(now):
            row.send_after, row.deferrals = policy.next_window(now).astimezone(UTC), row.deferrals + 1
            report.deferred += 1
            continue
        if sent_today[row.customer_id] >= policy.daily_cap:
            row.send_after, row.deferrals = policy.next_day(now).astimezone(UTC), row.deferrals + 1
            report.deferred += 1
            continue
        _send(session, plugins, row, customers[row.customer_id], document, now, report)
        if row.state == "sent":
            sent_today[row.customer_id] += 1
    session.flush()
    return report


def _send(session: Session, plugins: PluginManager, row: LoanMessage, customer: Customer, document: dict[str, Any],
          now: datetime, report: SendReport) -> None:
    template = TEMPLATES[row.event]
    variables = {**{k: str(v) for k, v in (row.variables or {}).items()}, "name": customer.name,
                 "product": str((document.get("name") or {}).get("zh", document.get("code", ""))),
                 "contract_no": f"LF-{loans_application(session, row.loan_id):08d}"}
    recipient = customer.phone if row.channel == "sms" else str(customer.id)
    row.attempts += 1
    try:
        receipt = plugins.call(row.plugin, "notification_send", session=session, subject=f"loan:{row.loan_id}",
                               message=NotificationRequest(request_id=row.key, channel=row.channel,  # type: ignore[arg-type]
                                                           recipient=recipient, template=template,
                                                           variables=variables,
                                                           text=_product_text(document, template)))
    except PluginNotFoundError as missing:  # the product names a notifications plugin this deployment lacks
        row.state, row.error = "failed", str(missing)[:2000]
        report.failed += 1
        return
    except PluginFailure as failure:
        row.error = str(failure)[:2000]
        if failure.outcome == "refused":
            row.state = "failed"
            report.failed += 1
        else:
            row.send_after = now + RETRY_AFTER
            report.retrying += 1
        return
    row.state, row.sent_at, row.outcome = "sent", now, receipt.status
    row.provider_reference, row.error = receipt.provider_reference[:80], None
    report.sent += 1


def loans_application(session: Session, loan_id: int) -> int:
    """The application id of a loan (its contract number is ``LF-<application id>``)."""
    return int(session.scalar(select(Loan.application_id).where(Loan.id == loan_id)) or 0)
