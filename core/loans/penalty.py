"""Penalty interest (罚息) and compound interest (复利) on overdue amounts, installment by installment.

Each installment past its due date accrues its own penalty, on its own unpaid principal, from its own due
date: two installments overdue at once are two penalties, each with its own grace and its own days, and
each is settled (by the allocation order, oldest installment first) or waived on its own. The unpaid
principal bears penalty interest every day at the penalty rate: the contract rate × ``multiplier``
(default 1.5, i.e. the contract rate + 50%, the ceiling of 银发〔2003〕251号) divided by the loan's
day-count basis, or a fixed ``daily_rate`` (e.g. 0.05% a day) when the product sets one. With
``compound`` on, the installment's unpaid interest bears the same rate (复利).

A grace period (宽限期) of ``grace_days`` days after the due date charges nothing. When an installment is
still unpaid after the grace, ``grace_retroactive`` (the default) charges the grace days too, on the first
day after it (the usual contract wording "逾期超过宽限期的, 自应还款日起计收罚息"); otherwise the
penalty runs only from the day after the grace.

The penalty is kept exact without dividing: a rate is a fraction ``numerator / divisor``
(:meth:`PenaltyPolicy.rate_fraction`: ``annual_rate × multiplier`` over the day-count basis, or
``daily_rate`` over 1), and each installment carries its remainder as a numerator, ``penalty_carry`` (the
fraction of a fen left, times the divisor). :func:`charge_penalties` adds ``base × numerator × days`` to it,
books the whole fen of that sum over the divisor on the installment (``penalty``, by integer division) and
carries the rest: each installment's penalty posted by a date is its exact cumulative penalty rounded down to
the fen, the carried remainder is exact and always under one fen × divisor, and the set-based SQL path
(:mod:`core.eod.overdue`) computes the same integers on PostgreSQL.

These are the settings of the product's ``penalty`` section (``mode`` ``multiplier`` with ``multiplier``, or
``mode`` ``daily_rate`` with ``daily_rate``; ``compound``) and of its ``overdue_grace_days``, copied into the
loan's contract at booking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import FEN

if TYPE_CHECKING:
    from core.loans.daily import InstallmentRow

ZERO = Decimal(0)


@dataclass(frozen=True)
class PenaltyPolicy:
    """How penalty interest is charged; a product setting.

    Args:
        multiplier: penalty annual rate / contract annual rate, 1 to 2 (default 1.5).
        daily_rate: a fixed daily penalty rate used instead of the multiplier, or ``None``; 0 to 1, the
            range the product schema's ``penalty.daily_rate`` allows, so a published product always books
            (what the rate may cost the borrower is the product's cost check, not this one's).
        compound: whether overdue interest bears penalty interest too (复利).
        grace_days: days after the due date without penalty, 0 to 30.
        grace_retroactive: once the grace is exceeded, charge its days as well.

    Raises:
        InvalidArgumentError: a value out of range; the field is named.
    """

    multiplier: Decimal = Decimal("1.5")
    daily_rate: Decimal | None = None
    compound: bool = False
    grace_days: int = 0
    grace_retroactive: bool = True

    def __post_init__(self) -> None:
        multiplier = to_decimal(self.multiplier, "penalty.multiplier")
        if not 1 <= multiplier <= 2:
            raise InvalidArgumentError(f"penalty.multiplier: must be between 1 and 2 (got {multiplier})",
                                       field="penalty.multiplier", value=multiplier)
        object.__setattr__(self, "multiplier", multiplier)
        if self.daily_rate is not None:
            daily = to_decimal(self.daily_rate, "penalty.daily_rate")
            if not 0 <= daily <= 1:
                raise InvalidArgumentError(f"penalty.daily_rate: must be between 0 and 1 (got {daily})",
                                           field="penalty.daily_rate", value=daily)
            object.__setattr__(self, "daily_rate", daily)
        if isinstance(self.grace_days, bool) or not isinstance(self.grace_days, int) \
                or not 0 <= self.grace_days <= 30:
            raise InvalidArgumentError(f"penalty.grace_days: must be a whole number from 0 to 30 "
                                       f"(got {self.grace_days!r})", field="penalty.grace_days",
                                       value=self.grace_days)

    def annual_equivalent(self, annual_rate: Decimal, basis: int) -> Decimal:
        """The annual penalty rate a contract prints, on the day basis the penalty is charged with:
        ``daily_rate × basis``, else ``annual_rate × multiplier`` (charged at that over ``basis`` a day)."""
        if self.daily_rate is not None:
            return self.daily_rate * basis
        return annual_rate * self.multiplier

    def rate_fraction(self, annual_rate: Decimal, basis: int) -> tuple[Decimal, int]:
        """The daily penalty rate as ``(numerator, divisor)``: ``(daily_rate, 1)``, else
        ``(annual_rate × multiplier, basis)``; the numerator is exact (a product of decimals)."""
        if self.daily_rate is not None:
            return self.daily_rate, 1
        return annual_rate * self.multiplier, basis

    def rate_per_day(self, annual_rate: Decimal, basis: int) -> Decimal:
        """The daily penalty rate as a decimal, for display (charging uses :meth:`rate_fraction`)."""
        numerator, divisor = self.rate_fraction(annual_rate, basis)
        return numerator / divisor

    def chargeable_days(self, days_past_due: int) -> int:
        """How many days of penalty the end-of-day of a loan ``days_past_due`` days overdue charges.

        0 within the grace; on the first day after it, ``grace_days + 1`` when retroactive, else 1;
        1 on every later day.
        """
        if days_past_due <= self.grace_days:
            return 0
        if days_past_due == self.grace_days + 1 and self.grace_retroactive:
            return self.grace_days + 1
        return 1


def daily_penalty(policy: PenaltyPolicy, *, annual_rate: Decimal, basis: int, overdue_principal: Decimal,
                  overdue_interest: Decimal, days_past_due: int) -> Decimal:
    """The penalty one end-of-day charges on one overdue installment, as a decimal (display and checks; the
    books use :func:`charge_penalties`, which never divides before rounding).

    >>> daily_penalty(PenaltyPolicy(), annual_rate=Decimal("0.12"), basis=360,
    ...               overdue_principal=Decimal("10000"), overdue_interest=Decimal("100"), days_past_due=3)
    Decimal('5')
    """
    numerator, divisor = policy.rate_fraction(annual_rate, basis)
    return penalty_numerator(policy, numerator, overdue_principal, overdue_interest, days_past_due) / divisor


def penalty_numerator(policy: PenaltyPolicy, numerator: Decimal, overdue_principal: Decimal,
                      overdue_interest: Decimal, days_past_due: int) -> Decimal:
    """``base × numerator × chargeable days``: the day's penalty times the rate's divisor, exact."""
    days = policy.chargeable_days(days_past_due)
    if days == 0:
        return ZERO
    base = overdue_principal + (overdue_interest if policy.compound else ZERO)
    return base * numerator * days


def split_fen(total: Decimal, divisor: int) -> tuple[Decimal, Decimal]:
    """``total / divisor`` split exactly into whole fen and the remainder numerator (``0 <= rest < divisor/100``).

    >>> split_fen(Decimal("443793.6"), 360)  # 38,523.75 × 0.48 × 24 days / 360
    (Decimal('1232.76'), Decimal('0.00'))
    """
    fen = (total * 100) // divisor
    posted = (fen * FEN).quantize(FEN)
    return posted, total - posted * divisor


@dataclass(frozen=True)
class PenaltyCharge:
    """The penalty one end-of-day charged on one installment.

    ``posted`` is the whole fen booked on the installment; ``carry`` the remainder numerator carried to its
    next day (the fraction of a fen left × ``divisor``).
    """

    period: int
    days_past_due: int
    base: Decimal
    posted: Decimal
    carry: Decimal
    divisor: int


def is_overdue(row: InstallmentRow, on: date) -> bool:
    """Whether ``row`` bears penalty on ``on``: ``overdue``, due before ``on`` and not settled."""
    return row.status == "overdue" and row.due_date < on and not row.settled


def charge_penalties(policy: PenaltyPolicy, rows: Iterable[InstallmentRow], on: date, *, annual_rate: Decimal,
                     basis: int) -> list[PenaltyCharge]:
    """Charge the penalty of business date ``on`` on each overdue installment of ``rows`` (changed in place).

    Each overdue installment (:func:`is_overdue`) adds :func:`penalty_numerator` on its own unpaid principal
    (and interest, with 复利) for its own days past due to its carried remainder; the whole fen of that over
    the rate's divisor are added to its ``penalty`` and the remainder kept in its ``penalty_carry``
    (:func:`split_fen`). The caller charges a date once (end-of-day keeps ``penalty_through``) and posts the sum
    of ``posted`` (Dr penalty receivable / Cr penalty income).

    Returns:
        One :class:`PenaltyCharge` per overdue installment, oldest first; empty when none is overdue.
    """
    numerator, divisor = policy.rate_fraction(annual_rate, basis)
    charges = []
    for row in sorted(rows, key=lambda r: r.period):
        if not is_overdue(row, on):
            continue
        days = (on - row.due_date).days
        base = row.unpaid_principal + (row.unpaid_interest if policy.compound else ZERO)
        total = row.penalty_carry + penalty_numerator(policy, numerator, row.unpaid_principal, row.unpaid_interest,
                                                      days)
        posted, carry = split_fen(total, divisor)
        row.set("penalty_carry", carry)
        if posted:
            row.set("penalty", row.penalty + posted)
        charges.append(PenaltyCharge(row.period, days, base, posted, carry, divisor))
    return charges
