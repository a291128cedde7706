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

The daily amount is unrounded: :func:`charge_penalties` adds it to the fraction of a fen the installment
carries (``penalty_carry``), books the whole fen on the installment (``penalty``) and carries the rest to its
next day, so each installment's penalty posted by a date is its exact cumulative penalty rounded down to
the fen, and nothing is lost to rounding over the life of the delinquency.

These are the settings of the product's ``penalty`` section (``mode`` ``multiplier`` with ``multiplier``, or
``mode`` ``daily_rate`` with ``daily_rate``; ``compound``) and of its ``overdue_grace_days``, copied into the
loan's contract at booking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
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

    def annual_equivalent(self, annual_rate: Decimal) -> Decimal:
        """The annual penalty rate a contract prints: ``daily_rate`` × 360, else ``annual_rate × multiplier``."""
        if self.daily_rate is not None:
            return self.daily_rate * 360
        return annual_rate * self.multiplier

    def rate_per_day(self, annual_rate: Decimal, basis: int) -> Decimal:
        """The daily penalty rate: ``daily_rate``, else ``annual_rate × multiplier / basis`` (unrounded)."""
        if self.daily_rate is not None:
            return self.daily_rate
        return annual_rate * self.multiplier / Decimal(basis)

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
    """The unrounded penalty one end-of-day charges on one overdue installment.

    Args:
        policy: the product's penalty policy.
        annual_rate: the contract annual rate.
        basis: the day-count basis (360 or 365).
        overdue_principal: the installment's principal still unpaid.
        overdue_interest: the installment's interest still unpaid (charged only when compounding).
        days_past_due: days since the installment's due date.

    >>> daily_penalty(PenaltyPolicy(), annual_rate=Decimal("0.12"), basis=360,
    ...               overdue_principal=Decimal("10000"), overdue_interest=Decimal("100"), days_past_due=3)
    Decimal('5.0000')
    """
    days = policy.chargeable_days(days_past_due)
    if days == 0:
        return ZERO
    base = overdue_principal + (overdue_interest if policy.compound else ZERO)
    return base * policy.rate_per_day(annual_rate, basis) * days


@dataclass(frozen=True)
class PenaltyCharge:
    """The penalty one end-of-day charged on one installment.

    ``exact`` is the day's unrounded penalty plus the fraction carried from the day before; ``posted`` is
    its whole fen (booked on the installment), ``carry`` the rest, carried to the installment's next day.
    """

    period: int
    days_past_due: int
    base: Decimal
    exact: Decimal
    posted: Decimal

    @property
    def carry(self) -> Decimal:
        return self.exact - self.posted


def is_overdue(row: InstallmentRow, on: date) -> bool:
    """Whether ``row`` bears penalty on ``on``: ``overdue``, due before ``on`` and not settled."""
    return row.status == "overdue" and row.due_date < on and not row.settled


def charge_penalties(policy: PenaltyPolicy, rows: Iterable[InstallmentRow], on: date, *, annual_rate: Decimal,
                     basis: int) -> list[PenaltyCharge]:
    """Charge the penalty of business date ``on`` on each overdue installment of ``rows`` (changed in place).

    Each overdue installment (:func:`is_overdue`) gets :func:`daily_penalty` on its own unpaid principal
    (and interest, with 复利) for its own days past due, plus its carried fraction; the whole fen are added
    to its ``penalty`` and the rest kept in its ``penalty_carry``. The caller charges a date once
    (end-of-day keeps ``penalty_through``) and posts the sum of ``posted`` (Dr penalty receivable / Cr
    penalty income).

    Returns:
        One :class:`PenaltyCharge` per overdue installment, oldest first; empty when none is overdue.
    """
    charges = []
    for row in sorted(rows, key=lambda r: r.period):
        if not is_overdue(row, on):
            continue
        days = (on - row.due_date).days
        base = row.unpaid_principal + (row.unpaid_interest if policy.compound else ZERO)
        exact = row.penalty_carry + daily_penalty(policy, annual_rate=annual_rate, basis=basis,
                                                  overdue_principal=row.unpaid_principal,
                                                  overdue_interest=row.unpaid_interest, days_past_due=days)
        posted = exact.quantize(FEN, ROUND_DOWN)
        row.set("penalty_carry", exact - posted)
        if posted:
            row.set("penalty", row.penalty + posted)
        charges.append(PenaltyCharge(row.period, days, base, exact, posted))
    return charges
