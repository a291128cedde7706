"""Payouts booked after their settlement date: the bank answered once end-of-day had closed that date.

:func:`core.origination.booking.complete_disbursement` books such a payout on the first open business date
and keeps both dates on the order; the bank's daily reconciliation of a day asks :func:`late_bookings` which
payouts of that day were booked on another (so it matches them on their value date and lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.origination.booking import DisbursementOrder


@dataclass(frozen=True)
class LateBooking:
    """A payout settled on ``value_date`` and booked on the later ``booked_on`` (its date was closed)."""

    request_id: str
    plugin: str
    amount: Decimal
    value_date: date
    booked_on: date
    loan_id: int | None


def late_bookings(session: Session, day: date, plugin: str | None = None) -> list[LateBooking]:
    """The payouts settled on ``day`` but booked later, and those booked on ``day`` but settled earlier."""
    query = select(DisbursementOrder).where(
        DisbursementOrder.value_date != DisbursementOrder.booked_on,
        (DisbursementOrder.value_date == day) | (DisbursementOrder.booked_on == day))
    if plugin is not None:
        query = query.where(DisbursementOrder.plugin == plugin)
    return [LateBooking(o.request_id, o.plugin, o.amount, o.value_date, o.booked_on, o.loan_id)
            for o in session.scalars(query.order_by(DisbursementOrder.id)) if o.value_date and o.booked_on]
