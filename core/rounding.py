"""The one place where money is rounded.

Amounts are rounded to the fen (0.01 CNY) with a mode that is a product parameter:

========== ===================== ==========================================
name       ``decimal`` constant  meaning
========== ===================== ==========================================
half_up    ``ROUND_HALF_UP``     0.005 -> 0.01 (the default, as contracts print)
half_even  ``ROUND_HALF_EVEN``   banker's rounding, 0.005 -> 0.00, 0.015 -> 0.02
down       ``ROUND_DOWN``        toward zero: the borrower never pays the part fen
up         ``ROUND_UP``          away from zero
========== ===================== ==========================================

Rates and accruals are never rounded here: they are carried at full ``Decimal`` precision and only the
amounts that become money (an installment's interest, a day's posted accrual) pass through
:func:`round_money`. The residue rounding leaves behind (尾差) is given to the last installment by the
schedule builders, never spread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, getcontext, localcontext
from enum import StrEnum
from typing import ParamSpec, TypeVar

from core.errors import InvalidArgumentError

FEN = Decimal("0.01")
#: significant digits money arithmetic needs: a 10^15 balance times a rate, still exact far below the fen
MONEY_PRECISION = 28

P = ParamSpec("P")
R = TypeVar("R")


class Rounding(StrEnum):
    """A rounding mode selectable per product; the value is the name used in product JSON."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        """The ``decimal`` module constant for this mode."""
        return _DECIMAL_MODES[self]

    @classmethod
    def parse(cls, value: Rounding | str) -> Rounding:
        """Return the mode named ``value``; raise :class:`InvalidArgumentError` naming ``rounding``."""
        if isinstance(value, Rounding):
            return value
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise InvalidArgumentError(
                f"rounding: unknown mode {value!r}; expected one of {names}", field="rounding", value=value
            ) from None


_DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
}

DEFAULT_ROUNDING = Rounding.HALF_UP


def round_money(amount: Decimal, rounding: Rounding = DEFAULT_ROUNDING) -> Decimal:
    """Round ``amount`` to the fen with ``rounding``.

    >>> round_money(Decimal("4083.335"))
    Decimal('4083.34')
    >>> round_money(Decimal("4083.335"), Rounding.HALF_EVEN)
    Decimal('4083.34')
    >>> round_money(Decimal("0.125"), Rounding.HALF_EVEN)
    Decimal('0.12')
    """
    return amount.quantize(FEN, rounding=_DECIMAL_MODES[rounding])


def money_precision(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with at least :data:`MONEY_PRECISION` significant digits.

    Decimal arithmetic follows the calling thread's context; a caller who lowered its precision would
    otherwise shift interest by fen. The check costs a lookup when the context is already fine.
    """

    @functools.wraps(func)
    def with_precision(*args: P.args, **kwargs: P.kwargs) -> R:
        if getcontext().prec >= MONEY_PRECISION:
            return func(*args, **kwargs)
        with localcontext(prec=MONEY_PRECISION):
            return func(*args, **kwargs)

    return with_precision
