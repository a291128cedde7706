"""Re-scheduling after a partial prepayment.

A partial prepayment on date ``on`` pays down principal. The installments that fell due on or before
``on`` stay as they were. Interest accrued on the old balance from the last due date to ``on`` is settled
with the prepayment itself (the prepayment quote collects it, see servicing), so the next installment's
interest runs on the reduced balance from ``on`` to its due date by the day count. Prepaying exactly on a
due date leaves the next period whole (annual / 12 for a month); prepaying on the disbursement day keeps
the first period's shape. Then:

* ``keep_term``: the same remaining due dates, each installment smaller (the level installment or
  principal part is recomputed on the reduced balance);
* ``keep_installment``: the same level installment (等额本息) or principal part (等额本金), so the loan
  ends sooner; the last installment takes what remains and is usually smaller.

Interest-only (先息后本) loans keep their term in both modes: only the principal due at maturity shrinks;
a bullet loan's single installment is re-priced on the reduced balance from ``on`` to maturity.
Remaining grace periods stay grace periods.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import FEN, money_precision
from core.schedule.builders import amortize, bullet_installment, first_period_interest, level_amount
from core.schedule.dates import due_dates
from core.schedule.model import Installment, Schedule
from core.schedule.terms import GraceType, LoanTerms, Method, RescheduleMode, parse_enum


def remaining_after(schedule: Schedule, on: date) -> tuple[list[Installment], list[Installment]]:
    """Split ``schedule`` into the installments due on or before ``on`` and those after it."""
    rows = list(schedule.installments)
    done = [row for row in rows if row.due_date <= on]
    return done, rows[len(done):]


@money_precision
def reschedule(schedule: Schedule, on: date, principal_prepaid: object, mode: RescheduleMode | str) -> Schedule:
    """The schedule after paying ``principal_prepaid`` of principal on ``on``.

    Args:
        schedule: the schedule in force (built by :func:`build_schedule` or an earlier re-scheduling).
        on: the prepayment date.
        principal_prepaid: the principal repaid, whole fen, less than the principal outstanding on ``on``.
        mode: ``keep_term`` or ``keep_installment``.

    Raises:
        InvalidArgumentError: the amount is not positive, not whole fen or would repay everything (that is
            a full prepayment), ``on`` is not a date within the loan's life, or ``mode`` is unknown; the
            error's ``field`` names the argument.
    """
    mode = parse_enum(RescheduleMode, mode, "mode")
    prepaid = to_decimal(principal_prepaid, "principal_prepaid")
    terms = schedule.terms
    if on.__class__ is not date:
        raise InvalidArgumentError(f"on: must be a date (got {on!r})", field="on", value=on)
    done, ahead = remaining_after(schedule, on)
    if on < terms.start_date or not ahead:
        raise InvalidArgumentError(
            f"on: {on} is outside the loan's life ({terms.start_date} to {schedule.maturity_date})",
            field="on", value=on)
    balance = _outstanding(terms, done, ahead[0])
    if not 0 < prepaid < balance or prepaid != prepaid.quantize(FEN):
        raise InvalidArgumentError(
            f"principal_prepaid: must be whole fen, more than 0 and less than the outstanding {balance} "
            f"(got {prepaid})", field="principal_prepaid", value=prepaid)
    new_balance = balance - prepaid
    head = ahead[0]
    if terms.method is Method.BULLET:
        row = bullet_installment(terms, new_balance, head.period, on, head.due_date)
        return Schedule(terms, (*done, row))
    first = _first_interest(terms, new_balance, on, done, head.due_date)
    grace = sum(1 for row in ahead if row.period <= terms.grace_periods)
    dues = [row.due_date for row in ahead]
    if mode is RescheduleMode.KEEP_TERM or terms.method is Method.INTEREST_ONLY:
        rows = amortize(terms, new_balance, head.period, on, dues, first, grace)
    else:
        level = _level_in_force(terms, done, ahead, balance, grace)
        rows = amortize(terms, new_balance, head.period, on, dues, first, grace, level)
        paid_off = next(k for k, row in enumerate(rows) if row.remaining_principal == 0)
        rows = rows[: paid_off + 1]
    return Schedule(terms, (*done, *rows))


def _outstanding(terms: LoanTerms, done: list[Installment], first: Installment) -> Decimal:
    """The principal owed just before ``first``, the first installment ahead (earlier prepayments included).

    A row repays its principal part, so the balance before it is what remains after it plus that part. A
    capitalised grace row instead adds interest it does not show; the balance before it is read from the
    row before (or the terms), which is only known while no re-scheduling happened since.
    """
    if terms.grace_type is not GraceType.CAPITALISED or first.period > terms.grace_periods:
        return first.remaining_principal + first.principal
    if first.start != (done[-1].due_date if done else terms.start_date):
        raise InvalidArgumentError(
            "on: a second prepayment within one capitalised grace period cannot be re-scheduled",
            field="on", value=first.start)
    return done[-1].remaining_principal if done else terms.principal


def _first_interest(terms: LoanTerms, balance: Decimal, on: date, done: list[Installment],
                    next_due: date) -> Decimal | None:
    """Unrounded interest from ``on`` to the next due date, ``None`` when that is a whole period."""
    if done and on == done[-1].due_date:
        return None
    if not done and on == terms.start_date:
        _dues, first_regular, stub_end = due_dates(terms)
        return first_period_interest(terms, balance, next_due, first_regular, stub_end)
    return terms.day_count.interest(balance, terms.annual_rate, on, next_due)


def _level_in_force(terms: LoanTerms, done: list[Installment], ahead: list[Installment], balance: Decimal,
                    grace: int) -> Decimal:
    """The level installment (等额本息) or principal part (等额本金) the borrower pays now.

    It is read from a regular amortising row ahead (not a grace row, not the last, and for 等额本息 not a
    broken first row, whose interest differs); when no such row is left, it is recomputed on the balance
    before the prepayment over the amortising rows ahead.
    """
    amortising = ahead[grace:-1]
    if terms.method is Method.EQUAL_PRINCIPAL:
        if amortising:
            return amortising[0].principal
    else:
        # the row after a grace period, or after a prepayment on a due date, is a whole period
        whole = grace > 0 or (bool(done) and ahead[0].start == done[-1].due_date)
        regular = amortising if whole else amortising[1:]
        if regular:
            return regular[0].total - regular[0].fee
    return level_amount(terms, balance, max(1, len(ahead) - grace))
