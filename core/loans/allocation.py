"""Repayment allocation: which debts a payment settles, in which order.

A payment is spread over the outstanding amounts of the installments that are due, by an
:class:`AllocationOrder`: an ordering of the four components (default penalty → fee → interest →
principal, the "costs → interest → principal" rule of 民法典 Art. 561 with penalty and fees as costs)
and a basis:

* ``installment`` (the default): the oldest installment first, and within it the components in order;
  the next installment is touched only when the older one is settled;
* ``component``: each component across every installment (oldest first) before the next component,
  e.g. every penalty before any interest.

Whatever the payment leaves over after settling everything is the ``excess``; servicing books it to
overpayment suspense. The function is pure: it reads :class:`Due` values and returns an
:class:`Allocation`; it never rounds, because every input is already a whole number of fen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import FEN

ZERO = Decimal(0)


class Component(StrEnum):
    """A part of what an installment owes; the value is the name used in products and postings."""

    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationBasis(StrEnum):
    """Oldest installment first (``installment``) or component by component (``component``)."""

    INSTALLMENT = "installment"
    COMPONENT = "component"


DEFAULT_COMPONENTS = (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL)


def _parse(kind: type[Component] | type[AllocationBasis], value: object, field: str) -> str:
    try:
        return kind(str(value)).value
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise InvalidArgumentError(f"{field}: unknown value {value!r}; expected one of {names}",
                                   field=field, value=value) from None


@dataclass(frozen=True)
class AllocationOrder:
    """The order a payment settles debts in; a product setting.

    Raises:
        InvalidArgumentError: ``components`` does not name each of the four components exactly once
            (field ``allocation_order``) or ``basis`` is unknown (field ``allocation_basis``).
    """

    components: tuple[Component, ...] = DEFAULT_COMPONENTS
    basis: AllocationBasis = AllocationBasis.INSTALLMENT

    def __post_init__(self) -> None:
        parsed = tuple(Component(_parse(Component, c, "allocation_order")) for c in self.components)
        if sorted(parsed) != sorted(Component):
            raise InvalidArgumentError(
                "allocation_order: must name penalty, fee, interest and principal exactly once",
                field="allocation_order", value=self.components)
        object.__setattr__(self, "components", parsed)
        object.__setattr__(self, "basis", AllocationBasis(_parse(AllocationBasis, self.basis, "allocation_basis")))


DEFAULT_ORDER = AllocationOrder()


@dataclass(frozen=True)
class Due:
    """What one installment still owes, by component; every amount >= 0 and in whole fen."""

    period: int
    due_date: date
    penalty: Decimal = ZERO
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def owed(self, component: Component) -> Decimal:
        value: Decimal = getattr(self, component.value)
        return value

    @property
    def total(self) -> Decimal:
        return self.penalty + self.fee + self.interest + self.principal


@dataclass(frozen=True)
class AllocationLine:
    """``amount`` of the payment settles ``component`` of installment ``period``."""

    period: int
    component: Component
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate`: the lines in the order they were settled, and the excess."""

    lines: tuple[AllocationLine, ...]
    excess: Decimal

    @property
    def applied(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def total(self, component: Component) -> Decimal:
        """How much of the payment went to ``component`` across installments."""
        return sum((line.amount for line in self.lines if line.component is component), ZERO)

    def for_period(self, period: int) -> dict[Component, Decimal]:
        """Component -> amount settled on installment ``period`` (components not touched are absent)."""
        result: dict[Component, Decimal] = {}
        for line in self.lines:
            if line.period == period:
                result[line.component] = result.get(line.component, ZERO) + line.amount
        return result


def _check_dues(dues: Iterable[Due]) -> list[Due]:
    rows = sorted(dues, key=lambda d: (d.due_date, d.period))
    for row in rows:
        for component in Component:
            owed = row.owed(component)
            if owed < 0 or owed != owed.quantize(FEN):
                raise InvalidArgumentError(
                    f"{component.value}: installment {row.period} owes {owed}, which is not a whole "
                    "non-negative number of fen", field=component.value, value=owed)
    return rows


def allocate(amount: object, dues: Sequence[Due], order: AllocationOrder = DEFAULT_ORDER) -> Allocation:
    """Spread ``amount`` over ``dues`` by ``order``.

    Args:
        amount: the payment, > 0, in whole fen.
        dues: what each installment owes; sorted here oldest due date first.
        order: the component order and basis.

    Returns:
        The lines settled, oldest first, and the ``excess`` left after everything is settled.

    Raises:
        InvalidArgumentError: ``amount`` is not positive or not whole fen (field ``amount``), or an
            installment owes a negative or fractional amount.
    """
    money = to_decimal(amount, "amount")
    if money <= 0 or money != money.quantize(FEN):
        raise InvalidArgumentError(f"amount: must be a positive whole number of fen (got {money})",
                                   field="amount", value=money)
    rows = _check_dues(dues)
    if order.basis is AllocationBasis.INSTALLMENT:
        slots = [(row, component) for row in rows for component in order.components]
    else:
        slots = [(row, component) for component in order.components for row in rows]
    remaining = money
    lines: list[AllocationLine] = []
    for row, component in slots:
        if remaining == 0:
            break
        take = min(remaining, row.owed(component))
        if take > 0:
            lines.append(AllocationLine(row.period, component, take))
            remaining -= take
    return Allocation(tuple(lines), remaining)
