"""Money: an exact amount in one currency.

:class:`Money` is a frozen value over :class:`decimal.Decimal`. It refuses ``float`` at every door (a
float cannot hold 0.10 exactly, and a fen lost in a schedule is a complaint), adds and subtracts only
within one currency, and rounds only through :mod:`core.rounding`. Multiplying by a rate gives an
unrounded amount; call :meth:`Money.rounded` where the amount becomes a posting or an installment.

:func:`to_decimal` is the shared gate for every numeric input of the kernel (amounts and rates): it
accepts ``Decimal``, ``int`` and numeric strings and raises :class:`FloatMoneyError` for floats.

:func:`parse_money` is the one reading of an amount a person or a channel sends, whatever the face (the API's
JSON, an admin form, a command's option): text of plain ASCII digits, at most 13 before the point and 2 after
(:data:`MONEY_PATTERN`, the ``MoneyInput`` of the API's OpenAPI document), or a number (a JSON number read as
``Decimal``) in whole fen from 0 to :data:`MAX_MONEY_NUMBER`. No sign, spaces, exponent, separators or other
scripts' digits: ``"５０００"``, ``" 5000.00 "``, ``"5E3"``, ``"5_000"`` and ``"5,000.00"`` are all refused, and
no amount reaches arithmetic that overflows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Union

from core.errors import CurrencyMismatchError, FloatMoneyError, InputError, InvalidArgumentError
from core.rounding import DEFAULT_ROUNDING, Rounding, round_money

Numeric = Union[Decimal, int, str]

DEFAULT_CURRENCY = "CNY"

#: an amount as text: ASCII digits, at most 13 before the point and 2 after ("5000", "5000.5", "5000.00")
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
_MONEY_TEXT = re.compile(MONEY_PATTERN[1:-1], re.ASCII)
#: the largest amount given as a number (the same 13 digits of yuan)
MAX_MONEY_NUMBER = Decimal(9999999999999)
_FEN = Decimal("0.01")


class MoneyInputError(InputError):
    """An amount sent by a person or a channel is not one :func:`parse_money` accepts."""


def parse_money(value: object, field: str = "amount", *, positive: bool = False) -> Decimal:
    """The amount ``value`` stands for, in whole fen: text matching :data:`MONEY_PATTERN`, or an ``int`` or
    ``Decimal`` (a JSON number read exactly) of whole fen from 0 to :data:`MAX_MONEY_NUMBER`.

    Args:
        field: the name the error gives the value.
        positive: refuse zero too.

    Raises:
        FloatMoneyError: ``value`` is a float.
        MoneyInputError: anything else outside those forms, naming ``field``.
    """
    if isinstance(value, float):
        to_decimal(value, field)  # raises FloatMoneyError
    if isinstance(value, str):
        if not _MONEY_TEXT.fullmatch(value):
            raise MoneyInputError(f'{field}: must be a decimal string such as "5000.00": digits only, at most 13 '
                                  "before the point and 2 after", field=field, value=value)
        amount = Decimal(value)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        amount = Decimal(value)
        if not amount.is_finite() or not 0 <= amount <= MAX_MONEY_NUMBER:
            raise MoneyInputError(f"{field}: must be a number from 0 to {MAX_MONEY_NUMBER}", field=field, value=value)
        if amount != amount.quantize(_FEN):
            raise MoneyInputError(f"{field}: must be a whole number of fen (at most 2 decimals)", field=field,
                                  value=value)
    else:
        raise MoneyInputError(f'{field}: must be a decimal string such as "5000.00" or a number', field=field,
                              value=value)
    if positive and amount == 0:
        raise MoneyInputError(f"{field}: must be greater than 0", field=field, value=value)
    return abs(amount)  # -0 is 0


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Convert ``value`` to a finite ``Decimal``, refusing floats, booleans and junk.

    Args:
        value: a ``Decimal``, ``int`` or numeric string.
        field: the name of the argument, used in the error message.

    Raises:
        FloatMoneyError: ``value`` is a float.
        InvalidArgumentError: ``value`` is not a finite number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        raise FloatMoneyError(
            f"{field}: got the float {value!r}; pass a Decimal, an int or a string such as '{value}'",
            field=field,
            value=value,
        )
    elif isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidArgumentError(f"{field}: expected a number, got {value!r}", field=field, value=value)
    else:
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise InvalidArgumentError(f"{field}: {value!r} is not a number", field=field, value=value) from None
    if not result.is_finite():
        raise InvalidArgumentError(f"{field}: {value!r} is not a finite number", field=field, value=value)
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of ``currency``; arithmetic keeps full precision until :meth:`rounded`."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __init__(self, amount: object, currency: str = DEFAULT_CURRENCY) -> None:
        object.__setattr__(self, "amount", to_decimal(amount))
        object.__setattr__(self, "currency", currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise InvalidArgumentError(f"cannot combine Money with {type(other).__name__}", value=other)
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Numeric) -> Money:
        return Money(self.amount * to_decimal(factor, "factor"), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def rounded(self, rounding: Rounding = DEFAULT_ROUNDING) -> Money:
        """This amount rounded to the fen with ``rounding``."""
        return Money(round_money(self.amount, rounding), self.currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"
