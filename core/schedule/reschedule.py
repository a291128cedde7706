"""Re-scheduling after a partial prepayment.

A partial prepayment on date ``on`` pays down principal. The installments that fell due on or before
``on`` stay as they were; interest accrued from the last due date to ``on`` is settled with the
prepayment itself (the prepayment quote collects it), so the next installment's interest runs on the
reduced balance from ``on`` by the day count. Then:

* ``keep_term``: the same number of remaining installments, each smaller (the level installment or
  principal part is recomputed on the reduced balance);
* ``keep_installment``: the same level installment (等额本息) or principal part (等额本金), fewer
  installments; the last one takes what remains.

For interest-only and bullet loans only the principal due at maturity shrinks: both modes keep the term.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.schedule.builders import amortize, build_schedule
from core.schedule.model import Installment, Schedule
from core.schedule.terms import DueDayRule, Frequency, LoanTerms, Method, RescheduleMode, parse_enum


def remaining_after(schedule: Schedule, on: date) -> tuple[list[Installment], list[Installment]]:
    """Split ``schedule`` into the installments due on or before ``on`` and those after it."""
    rows = list(schedule.installments)
    done = [row for row in rows if row.due_date <= on]
    return done, rows[len(done):]


def periods_for_level(balance: Decimal, rate: Decimal, level: Decimal) -> int:
    """How many level installments of ``level`` repay ``balance`` at ``rate`` per period."""
    if rate == 0:
        return max(1, math.ceil(balance / level))
    ratio = 1 - balance * rate / level
    if ratio <= 0:
        raise InvalidArgumentError("the kept installment no longer covers the interest", field="mode")
    return max(1, math.ceil(-ratio.ln() / (1 + rate).ln() - Decimal("1e-12")))


def reschedule(schedule: Schedule, on: date, principal_prepaid: object, mode: RescheduleMode | str) -> Schedule:
    """The schedule after paying ``principal_prepaid`` of principal on ``on``.

    Raises:
        InvalidArgumentError: the amount is not positive or would repay everything (use a full
            prepayment), ``on`` is outside the loan's life, or ``mode`` is unknown.
    """
    mode = parse_enum(RescheduleMode, mode, "mode")
    prepaid = to_decimal(principal_prepaid, "principal_prepaid")
    terms = schedule.terms
    done, ahead = remaining_after(schedule, on)
    if on < terms.start_date or not ahead:
        raise InvalidArgumentError(f"on: {on} is outside the loan's life", field="on", value=on)
    balance = done[-1].remaining_principal if done else terms.principal
    if prepaid <= 0 or prepaid >= balance:
        raise InvalidArgumentError(
            f"principal_prepaid: must be more than 0 and less than the outstanding {balance}",
            field="principal_prepaid", value=prepaid)
    new_balance = balance - prepaid
    next_row = ahead[0]
    if terms.method is Method.BULLET:
        rebuilt = build_schedule(_bullet_remainder(terms, new_balance, on, next_row.due_date))
        rows = [rebuilt.installments[0]._replace(period=next_row.period, start=on)]
        return Schedule(terms, tuple(done + rows))
    broken = terms.day_count.interest(new_balance, terms.annual_rate, on, next_row.due_date)
    grace = sum(1 for row in ahead if row.principal == 0 and row is not ahead[-1])
    grace = min(grace, terms.grace_periods)
    dues = [row.due_date for row in ahead]
    level = None
    if mode is RescheduleMode.KEEP_INSTALLMENT and terms.method is not Method.INTEREST_ONLY:
        level = _kept_level(schedule, terms)
        count = _count_for(terms, new_balance, level)
        dues = dues[:count]
    rows = amortize(terms, new_balance, next_row.period, on, dues, broken, grace, level)
    return Schedule(terms, tuple(done + rows))


def _kept_level(schedule: Schedule, terms: LoanTerms) -> Decimal:
    regular = [row for row in schedule.installments if row.principal > 0]
    if terms.method is Method.EQUAL_INSTALLMENT:
        # the level installment is the total less the fee of any non-final amortising row
        return (regular[0] if len(regular) == 1 else regular[1]).total - terms.fee_per_period
    return regular[0].principal


def _count_for(terms: LoanTerms, balance: Decimal, level: Decimal) -> int:
    if terms.method is Method.EQUAL_INSTALLMENT:
        return periods_for_level(balance, terms.period_rate, level)
    return max(1, math.ceil(balance / level))


def _bullet_remainder(terms: LoanTerms, balance: Decimal, on: date, maturity: date) -> LoanTerms:
    return replace(terms, principal=balance, start_date=on, periods=(maturity - on).days,
                   frequency=Frequency.DAILY, due_day_rule=DueDayRule.SAME_DAY)
