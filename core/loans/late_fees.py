"""Late fees (逾期费用): each overdue installment is charged the contract's late fees once, after the grace.

The contract's :class:`~core.loans.fees.LateFeeRule` lists the product's ``late`` fees. The day's close
charges them on each installment that is overdue, not settled, more than the contract's overdue grace days
(``penalty.grace_days``, the same 宽限期 the penalty observes) past its due date, and not charged yet: the
fees' sum (:meth:`~core.loans.fees.LateFeeRule.amount`, ``percent_of_outstanding`` on the installment's
unpaid principal and interest that day) is added to the installment's ``fee`` (so a payment settles it by
the contract's allocation order, as any fee) and recorded in its ``late_fee``, which marks it charged. A
payment within the grace avoids the fee; an installment is never charged twice, whatever happens later.

The day's close posts the sum of a loan's late fees as one ``eod_late_fee`` entry: Dr fee receivable / Cr
fee income.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core.loans.fees import LateFeeRule
from core.loans.penalty import is_overdue
from core.rounding import Rounding

if TYPE_CHECKING:
    from core.loans.daily import InstallmentRow

ZERO = Decimal(0)


def late_fee_due(row: InstallmentRow, on: date, grace_days: int) -> bool:
    """Whether ``row`` is charged its late fees on ``on``: overdue past the grace and not charged yet."""
    return is_overdue(row, on) and (on - row.due_date).days > grace_days and row.late_fee == 0


def charge_late_fees(rule: LateFeeRule, rows: Iterable[InstallmentRow], on: date, *, grace_days: int,
                     principal: Decimal, rounding: Rounding) -> Decimal:
    """Charge the late fees of ``on`` on ``rows`` (changed in place); returns their sum (module docstring)."""
    if not rule.fees:
        return ZERO
    total = ZERO
    for row in rows:
        if not late_fee_due(row, on, grace_days):
            continue
        amount = rule.amount(principal=principal, overdue=row.unpaid_principal + row.unpaid_interest,
                             rounding=rounding)
        if amount > 0:
            row.set("late_fee", amount)
            row.set("fee", row.fee + amount)
            total += amount
    return total
