"""Daily interest accrual that adds up exactly to the scheduled interest.

An installment's interest ``I`` is earned over its period ``(start, due]`` of ``D`` days. On business
date ``d`` the amount earned so far is ``round(I × (d − start) / D)`` (0 before the period, ``I`` on and
after the due date). Each end-of-day posts that cumulative target minus what is already posted, so the
daily postings of a period always add up to exactly ``I``, whatever the rounding mode, however many
days are caught up at once, and a re-run posts nothing. The fraction of a fen never leaks: it is carried
in the cumulative target rather than in each day's amount.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.errors import InvalidArgumentError
from core.rounding import DEFAULT_ROUNDING, Rounding, round_money

ZERO = Decimal(0)


def accrued_target(interest: Decimal, start: date, due: date, on: date,
                   rounding: Rounding = DEFAULT_ROUNDING) -> Decimal:
    """Interest of the period ``(start, due]`` earned by the end of ``on``, rounded to the fen.

    Raises:
        InvalidArgumentError: ``due`` is not after ``start`` (field ``due_date``) or ``interest`` < 0.
    """
    if due <= start:
        raise InvalidArgumentError(f"due_date: {due} must be after the period start {start}",
                                   field="due_date", value=due)
    if interest < 0:
        raise InvalidArgumentError(f"interest: must not be negative (got {interest})", field="interest",
                                   value=interest)
    if on <= start:
        return ZERO
    if on >= due:
        return interest
    return round_money(interest * (on - start).days / (due - start).days, rounding)


def accrual_for(interest: Decimal, start: date, due: date, on: date, already: Decimal,
                rounding: Rounding = DEFAULT_ROUNDING) -> Decimal:
    """What the end-of-day of ``on`` posts for the period: the target less ``already`` posted.

    >>> accrual_for(Decimal("100.00"), date(2026, 1, 1), date(2026, 1, 4), date(2026, 1, 2), Decimal(0))
    Decimal('33.33')
    >>> accrual_for(Decimal("100.00"), date(2026, 1, 1), date(2026, 1, 4), date(2026, 1, 4), Decimal("66.67"))
    Decimal('33.33')
    """
    return accrued_target(interest, start, due, on, rounding) - already
