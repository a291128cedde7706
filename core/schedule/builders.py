"""Building schedules: one amortisation engine for every method.

The engine walks the periods once. Grace periods come first (interest only, or nothing paid and the
interest capitalised). Then each period's interest is the balance times the period rate (annual / 12 for
a month), rounded to the fen with the product's mode; a broken first period is priced by the day count
instead. The principal part depends on the method:

* 等额本息 ``equal_installment``: a level installment ``A = B·i·(1+i)^m / ((1+i)^m − 1)``, rounded;
  principal = A − the regular interest, so a broken first period changes only its interest;
* 等额本金 ``equal_principal``: ``B / m`` rounded, every period;
* 先息后本 ``interest_only``: nothing until the last period;
* 到期还本付息 ``bullet``: one installment at maturity with interest ``P · annual · days / basis``.

The last installment always takes the whole remaining balance, so the rounding residue (尾差) lands
there and the principal parts add up exactly to the principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from core.rounding import FEN, money_precision
from core.schedule.dates import due_dates
from core.schedule.model import Installment, Schedule
from core.schedule.terms import GraceType, LoanTerms, Method

ZERO = Decimal("0.00")
_LEVEL_METHODS = (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL)
#: builds an :class:`Installment` from a tuple without NamedTuple's Python-level ``__new__`` (hot path)
_row = tuple.__new__


def level_installment(balance: Decimal, rate: Decimal, periods: int, mode: str) -> Decimal:
    """The 等额本息 installment for ``balance`` over ``periods`` at ``rate`` per period, rounded."""
    if rate == 0:
        return (balance / periods).quantize(FEN, mode)
    growth = (1 + rate) ** periods
    return (balance * rate * growth / (growth - 1)).quantize(FEN, mode)


def level_amount(terms: LoanTerms, balance: Decimal, periods: int) -> Decimal:
    """The amount a method keeps level: the installment (等额本息) or the principal part (等额本金)."""
    mode = terms.rounding.decimal_mode
    if terms.method is Method.EQUAL_INSTALLMENT:
        return level_installment(balance, terms.period_rate, periods, mode)
    return (balance / periods).quantize(FEN, mode)


def amortize(
    terms: LoanTerms,
    balance: Decimal,
    first_number: int,
    start: date,
    dues: Sequence[date],
    first_interest: Decimal | None = None,
    grace: int = 0,
    level: Decimal | None = None,
) -> list[Installment]:
    """Installments for ``balance`` falling due on ``dues``; the last one takes the whole balance left.

    Args:
        terms: rate, method, fee, grace type and rounding come from here.
        balance: principal outstanding at ``start``.
        first_number: the period number of the first row.
        start: when interest starts to run for the first row.
        dues: one due date per row.
        first_interest: unrounded interest of a broken first period; ``None`` when it is regular.
        grace: how many leading rows are grace periods.
        level: the level installment or principal part to keep; computed when ``None``.
    """
    mode = terms.rounding.decimal_mode
    rate = terms.period_rate
    fee = terms.fee_per_period
    rows: list[Installment] = []
    append = rows.append
    previous = start
    number = first_number
    broken = first_interest
    for due in dues[:grace]:
        interest = (balance * rate if broken is None else broken).quantize(FEN, mode)
        broken = None
        if terms.grace_type is GraceType.CAPITALISED:
            balance += interest
            append(_row(Installment, (number, previous, due, ZERO, ZERO, ZERO, ZERO, balance)))
        else:
            append(_row(Installment, (number, previous, due, ZERO, interest, fee, interest + fee, balance)))
        previous = due
        number += 1
    amortising = dues[grace:]
    method = terms.method
    if level is None:
        level = level_amount(terms, balance, len(amortising)) if method in _LEVEL_METHODS else ZERO
    body = amortising[:-1]
    if broken is not None and body:
        # a broken first period: its interest follows the day count, its principal part a whole period's
        regular = (balance * rate).quantize(FEN, mode)
        interest, broken = broken.quantize(FEN, mode), None
        principal = min(level - regular if method is Method.EQUAL_INSTALLMENT else level, balance)
        balance -= principal
        total = principal + interest + fee
        append(_row(Installment, (number, previous, body[0], principal, interest, fee, total, balance)))
        previous, number, body = body[0], number + 1, body[1:]
    # whole periods; the loops are the hot path of every schedule, hence one per method
    if method is Method.EQUAL_INSTALLMENT:
        paid = level + fee
        for due in body:
            interest = (balance * rate).quantize(FEN, mode)
            principal = level - interest
            total = paid
            if principal > balance:  # a tiny loan whose rounded installment overpays is repaid early
                principal = balance
                total = principal + interest + fee
            balance -= principal
            append(_row(Installment, (number, previous, due, principal, interest, fee, total, balance)))
            previous = due
            number += 1
    else:
        for due in body:
            interest = (balance * rate).quantize(FEN, mode)
            principal = level if level < balance else balance
            balance -= principal
            total = principal + interest + fee
            append(_row(Installment, (number, previous, due, principal, interest, fee, total, balance)))
            previous = due
            number += 1
    # the last installment takes the whole balance left, so the rounding residue (尾差) lands here
    interest = (balance * rate if broken is None else broken).quantize(FEN, mode)
    total = balance + interest + fee
    append(_row(Installment, (number, previous, amortising[-1], balance, interest, fee, total, ZERO)))
    return rows


def first_period_interest(
    terms: LoanTerms, balance: Decimal, first_due: date, first_regular: bool, stub_end: date | None
) -> Decimal | None:
    """Unrounded interest on ``balance`` of a broken first period, or ``None`` when it is regular.

    With ``extra_days`` (``stub_end`` set) it is a whole period's interest plus the extra days' from
    disbursement to ``stub_end`` by the day count; with ``actual_days`` it is the day count's interest
    from disbursement to the first due date.
    """
    if stub_end is not None:
        extra = terms.day_count.interest(balance, terms.annual_rate, terms.start_date, stub_end)
        return balance * terms.period_rate + extra
    if first_regular:
        return None
    return terms.day_count.interest(balance, terms.annual_rate, terms.start_date, first_due)


def bullet_installment(terms: LoanTerms, balance: Decimal, number: int, start: date, maturity: date) -> Installment:
    """The one installment of a bullet loan: ``balance`` plus its day-count interest from ``start``."""
    raw = terms.day_count.interest(balance, terms.annual_rate, start, maturity)
    interest = raw.quantize(FEN, terms.rounding.decimal_mode)
    fee = terms.fee_per_period
    return Installment(number, start, maturity, balance, interest, fee, balance + interest + fee, ZERO)


@money_precision
def build_schedule(terms: LoanTerms) -> Schedule:
    """The repayment schedule for ``terms``.

    A valid :class:`LoanTerms` always builds: every refusal happens when the terms are made.
    """
    dues, first_regular, stub_end = due_dates(terms)
    if terms.method is Method.BULLET:
        return Schedule(terms, (bullet_installment(terms, terms.principal, 1, terms.start_date, dues[-1]),))
    first = first_period_interest(terms, terms.principal, dues[0], first_regular, stub_end)
    rows = amortize(terms, terms.principal, 1, terms.start_date, dues, first, terms.grace_periods)
    return Schedule(terms, tuple(rows))
