"""The fees a contract charges after disbursement: on prepayment and on a late installment.

A product's ``fees`` entries with ``when`` ``on_prepayment`` or ``late`` are copied into the loan's contract as
:class:`ContractFee` values (code, printed name, basis, value), so the contract document prints exactly what
servicing later charges, and nothing is read from the product again.

A fee's amount is its basis applied to a base, rounded to the fen by the contract's rounding mode
(:func:`core.rounding.round_money`):

* ``fixed``: ``value`` yuan;
* ``percent_of_principal``: ``value`` × the loan's original principal;
* ``percent_of_outstanding``: ``value`` × the base of the moment: on prepayment the principal prepaid, on a
  late installment that installment's overdue principal and interest the day the fee is charged.

Several fees of one timing are **summed**, each rounded on its own: 0.2 % of a 100,000.00 principal plus a fixed
2.00 is 202.00, never the larger of the two.

:class:`PrepaymentRules` holds the prepayment window and its fees; :class:`LateFeeRule` the late fees, charged
once per installment by the day's close (:func:`core.loans.late_fees.charge_late_fees`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import Rounding, round_money

ZERO = Decimal(0)
FEE_BASES = ("fixed", "percent_of_principal", "percent_of_outstanding")
#: what a prepayment window counts: installments, or (a bullet loan) its product's term unit
WINDOW_UNITS = ("installment", "day", "week", "month")


@dataclass(frozen=True)
class ContractFee:
    """One fee as the contract states it.

    Args:
        code: the product's fee code.
        name: the name printed on the contract (Chinese).
        basis: ``fixed``, ``percent_of_principal`` or ``percent_of_outstanding`` (module docstring).
        value: yuan for ``fixed``; a fraction from 0 to 1 otherwise.

    Raises:
        InvalidArgumentError: an unknown basis or a value out of range (field ``fee.<name>``).
    """

    code: str
    name: str
    basis: str
    value: Decimal

    def __post_init__(self) -> None:
        if self.basis not in FEE_BASES:
            raise InvalidArgumentError(f"fee.basis: must be one of {', '.join(FEE_BASES)} (got {self.basis!r})",
                                       field="fee.basis", value=self.basis)
        value = to_decimal(self.value, "fee.value")
        if value < 0 or (self.basis != "fixed" and value > 1):
            raise InvalidArgumentError(f"fee.value: must be at least 0 (and at most 1 for a percent) (got {value})",
                                       field="fee.value", value=value)
        object.__setattr__(self, "value", value)

    def amount(self, *, principal: Decimal, outstanding: Decimal, rounding: Rounding) -> Decimal:
        """The fee in fen on a loan of original ``principal`` with ``outstanding`` the moment's base."""
        if self.basis == "fixed":
            return round_money(self.value, rounding)
        base = principal if self.basis == "percent_of_principal" else outstanding
        return round_money(base * self.value, rounding)


def fees_total(fees: tuple[ContractFee, ...], *, principal: Decimal, outstanding: Decimal,
               rounding: Rounding) -> Decimal:
    """The sum of ``fees``, each rounded to the fen on its own (module docstring)."""
    return sum((fee.amount(principal=principal, outstanding=outstanding, rounding=rounding) for fee in fees), ZERO)


@dataclass(frozen=True)
class PrepaymentRules:
    """Whether prepayment is allowed, from when, and what it costs.

    Args:
        allowed: prepayment is the borrower's right (民法典 Art. 677) unless the contract says otherwise.
        fees: the ``on_prepayment`` fees, summed (module docstring); the outstanding base is the principal
            prepaid.
        min_fee: the smallest fee charged on a prepayment that bears a fee (0: none). Products set none; a
            contract booked before fees were itemised keeps the minimum it was booked with.
        free_after_periods: no fee once this many installments have fallen due (``None``: never free).
        earliest_period, earliest_unit: the window (the product's ``prepayment.earliest_period``), read by
            :func:`core.loans.prepayment.prepayment_opens_on`. Counted in installments, prepayment
            is accepted from the due date of installment ``earliest_period`` on (from disbursement when it
            is 1, the default: no window); a bullet loan counts it in its product's term unit (``day``,
            ``week`` or ``month``) from disbursement.

    Raises:
        InvalidArgumentError: a value out of range (field ``prepayment.<name>``).
    """

    allowed: bool = True
    fees: tuple[ContractFee, ...] = ()
    min_fee: Decimal = ZERO
    free_after_periods: int | None = None
    earliest_period: int = 1
    earliest_unit: str = "installment"

    def __post_init__(self) -> None:
        minimum = to_decimal(self.min_fee, "prepayment.min_fee")
        if minimum < 0:
            raise InvalidArgumentError(f"prepayment.min_fee: must not be negative (got {minimum})",
                                       field="prepayment.min_fee", value=minimum)
        if self.free_after_periods is not None and self.free_after_periods < 0:
            raise InvalidArgumentError("prepayment.free_after_periods: must not be negative",
                                       field="prepayment.free_after_periods", value=self.free_after_periods)
        if self.earliest_period < 1:
            raise InvalidArgumentError("prepayment.earliest_period: must be at least 1",
                                       field="prepayment.earliest_period", value=self.earliest_period)
        if self.earliest_unit not in WINDOW_UNITS:
            raise InvalidArgumentError(f"prepayment.earliest_unit: must be one of {', '.join(WINDOW_UNITS)}",
                                       field="prepayment.earliest_unit", value=self.earliest_unit)
        object.__setattr__(self, "min_fee", minimum)
        object.__setattr__(self, "fees", tuple(self.fees))

    def fee(self, *, principal: Decimal, prepaid: Decimal, periods_fallen_due: int, rounding: Rounding) -> Decimal:
        """The fee for prepaying ``prepaid`` of a loan of original ``principal`` after ``periods_fallen_due``
        installments fell due: the fees summed, at least ``min_fee``; nothing once free or without fees."""
        if not self.fees or (self.free_after_periods is not None and periods_fallen_due >= self.free_after_periods):
            return ZERO
        return max(fees_total(self.fees, principal=principal, outstanding=prepaid, rounding=rounding), self.min_fee)


@dataclass(frozen=True)
class LateFeeRule:
    """The late fees (``when: late``) of a contract and when they are charged.

    Each installment still unpaid once its days past due exceed ``grace_days`` (the contract's overdue
    grace, 宽限期) is charged every fee once, on the first day's close after the grace: ``fixed`` per overdue
    installment, ``percent_of_outstanding`` of that installment's overdue principal and interest,
    ``percent_of_principal`` of the loan's original principal.
    """

    fees: tuple[ContractFee, ...] = ()

    def amount(self, *, principal: Decimal, overdue: Decimal, rounding: Rounding) -> Decimal:
        """What one overdue installment owing ``overdue`` (principal and interest) is charged."""
        return fees_total(self.fees, principal=principal, outstanding=overdue, rounding=rounding)
