"""A payment channel's settlement callback, held to the payout order it answers.

A signed callback proves who sent it, not that it is right: a bank's bug, a misrouted file or a leaked
secret could announce a payout of 1.00 for an order of 5,000.00, or a settlement a year back, and the loan
would be booked from it (the principal and the disbursement date come from the order and the callback).
:func:`check_callback` therefore requires, before anything is booked:

* ``amount``: exactly the order's amount;
* ``settled_at``: its date in the lender's time zone no earlier than the day the order was placed, and no later than
  today's business date plus ``tolerance_days`` (a bank's clock running ahead over midnight).

A callback that disagrees is refused (:class:`~core.origination.errors.CallbackMismatchError`, naming the
field) and flagged for reconciliation, as the bank reconciliation reports a difference: the order keeps
``pending`` (the right callback may still come) with the difference in its ``failure`` (``amount_mismatch:
...`` or ``date_out_of_range: ...``), and an audit event ``disbursement.callback_refused`` on the order
shows it to staff in the audit log. The error is a :class:`~core.errors.RecordedRefusal`: the caller
commits the flag and answers with the refusal.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.backoffice import audit
from core.businessday.clock import local_date
from core.origination.errors import CallbackMismatchError
from core.plugins.types import PaymentResult

if TYPE_CHECKING:
    from core.origination.booking import DisbursementOrder

#: the default of ``tolerance_days`` (the deployment's ``PAYMENT_CALLBACK_TOLERANCE_DAYS``)
CALLBACK_TOLERANCE_DAYS = 1


def _difference(order: DisbursementOrder, result: PaymentResult, settled: datetime, today: date,
                tolerance_days: int, zone: ZoneInfo | None) -> tuple[str, str, str] | None:
    """``(kind, field, message)`` of the first way the callback disagrees with the order, or ``None``."""
    if result.amount != order.amount:
        return ("amount_mismatch", "amount",
                f"amount: the callback settles {result.amount:.2f}, the order {order.request_id} is for "
                f"{order.amount:.2f}")
    placed, on = local_date(order.created_at, zone), local_date(settled, zone)
    latest = today + timedelta(days=tolerance_days)
    if on < placed:
        return ("date_out_of_range", "settled_at",
                f"settled_at: {on} is before the order {order.request_id} was placed on {placed}")
    if on > latest:
        return ("date_out_of_range", "settled_at",
                f"settled_at: {on} is after today's business date {today} (+{tolerance_days} day(s))")
    return None


def check_callback(session: Session, order: DisbursementOrder, result: PaymentResult, settled: datetime, *,
                   today: date, tolerance_days: int, actor: str, zone: ZoneInfo | None = None) -> None:
    """Refuse and flag a success callback whose amount or settlement date does not fit ``order``.

    Args:
        settled: the settlement moment the loan would be booked on (the callback's, or now).
        today: the caller's business date.
        zone: the lender's time zone, whose dates the settlement and the order are compared on (default
            :func:`core.businessday.clock.lender_zone`).

    Raises:
        CallbackMismatchError: the amount differs (field ``amount``) or the date is out of range (field
            ``settled_at``); the flag is in ``session`` for the caller to commit.
    """
    found = _difference(order, result, settled, today, tolerance_days, zone)
    if found is None:
        return
    kind, field, message = found
    order.failure = f"{kind}: {message}"[:500]
    audit.record(session, actor=actor, action="disbursement.callback_refused", entity_type="disbursement_order",
                 entity_id=order.request_id, after={
                     "kind": kind, "field": field, "application_id": order.application_id,
                     "order": {"amount": order.amount, "placed_at": order.created_at},
                     "callback": {"amount": result.amount, "settled_at": settled,
                                  "channel_reference": result.channel_reference}},
                 comment=message)
    raise CallbackMismatchError(message, field=field, value=getattr(result, field, None))
