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

from datetime import date
from decimal import Decimal

from core.rounding import FEN
from core.schedule.dates import due_dates
from core.schedule.model import Installment, Schedule
from core.schedule.terms import GraceType, LoanTerms, Method

ZERO = Decimal(0)


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
    dues: list[date],
    first_interest: Decimal | None = None,
    grace: int = 0,
    level: Decimal | None = None,
) -> list[Installment]:
    """Installments for ``balance`` falling due on ``dues``.

    Args:
        terms: rate, method, fee and rounding come from here.
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
    capitalise = terms.grace_type is GraceType.CAPITALISED
    rows: list[Installment] = []
    previous = start
    number = first_number
    count = len(dues)
    for due in dues[:grace]:
        raw = first_interest if first_interest is not None and number == first_number else balance * rate
        interest = raw.quantize(FEN, mode)
        if capitalise:
            balance += interest
            rows.append(Installment(number, previous, due, ZERO, ZERO, ZERO, ZERO, balance))
        else:
            rows.append(Installment(number, previous, due, ZERO, interest, fee, interest + fee, balance))
        previous = due
        number += 1
    method = terms.method
    if level is None and method in (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL):
        level = level_amount(terms, balance, count - grace)
    last = first_number + count - 1
    for due in dues[grace:]:
        regular = (balance * rate).quantize(FEN, mode)
        if first_interest is not None and number == first_number:
            interest = first_interest.quantize(FEN, mode)
        else:
            interest = regular
        if number == last:
            principal = balance
        elif level is not None and method is Method.EQUAL_INSTALLMENT:
            principal = min(level - regular, balance)
        elif level is not None:
            principal = min(level, balance)
        else:
            principal = ZERO
        balance -= principal
        rows.append(Installment(number, previous, due, principal, interest, fee, principal + interest + fee, balance))
        previous = due
        number += 1
    return rows


def first_period_interest(
    terms: LoanTerms, first_due: date, first_regular: bool, stub_end: date | None
) -> Decimal | None:
    """Unrounded interest of a broken first period, or ``None`` when the first period is regular."""
    if stub_end is not None:
        extra = terms.day_count.interest(terms.principal, terms.annual_rate, terms.start_date, stub_end)
        return terms.principal * terms.period_rate + extra
    if first_regular:
        return None
    return terms.day_count.interest(terms.principal, terms.annual_rate, terms.start_date, first_due)


def build_schedule(terms: LoanTerms) -> Schedule:
    """The repayment schedule for ``terms``.

    Raises:
        InvalidArgumentError: only through :class:`LoanTerms`; a valid ``terms`` always builds.
    """
    dues, first_regular, stub_end = due_dates(terms)
    if terms.method is Method.BULLET:
        maturity = dues[-1]
        raw = terms.day_count.interest(terms.principal, terms.annual_rate, terms.start_date, maturity)
        interest = raw.quantize(FEN, terms.rounding.decimal_mode)
        fee = terms.fee_per_period
        row = Installment(1, terms.start_date, maturity, terms.principal, interest, fee,
                          terms.principal + interest + fee, ZERO)
        return Schedule(terms, (row,))
    first = first_period_interest(terms, dues[0], first_regular, stub_end)
    rows = amortize(terms, terms.principal, 1, terms.start_date, dues, first, terms.grace_periods)
    return Schedule(terms, tuple(rows))
