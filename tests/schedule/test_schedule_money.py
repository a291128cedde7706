"""Money refuses floats, keeps currencies apart and rounds only through the rounding module."""

from decimal import Decimal

import pytest

from core.errors import CurrencyMismatchError, FloatMoneyError, InvalidArgumentError
from core.money import Money, to_decimal
from core.rounding import Rounding, round_money


def test_money_refuses_a_float_and_names_the_argument():
    with pytest.raises(FloatMoneyError, match="amount"):
        Money(0.1)
    with pytest.raises(FloatMoneyError, match="rate"):
        to_decimal(0.049, "rate")


@pytest.mark.parametrize("junk", ["abc", None, True, "NaN", "Infinity", [1]])
def test_to_decimal_refuses_junk(junk):
    with pytest.raises(InvalidArgumentError):
        to_decimal(junk)


def test_money_adds_exactly_where_floats_do_not():
    assert 0.1 + 0.2 != 0.3
    assert Money("0.1") + Money("0.2") == Money("0.3")


def test_money_refuses_to_mix_currencies():
    with pytest.raises(CurrencyMismatchError):
        Money("1", "CNY") + Money("1", "USD")


def test_multiplying_keeps_precision_until_rounded():
    interest = Money("1000000") * (Decimal("0.049") / 12)
    assert interest.amount != interest.rounded().amount
    assert interest.rounded() == Money("4083.33")


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [
        ("2.675", Rounding.HALF_UP, "2.68"),
        ("2.665", Rounding.HALF_EVEN, "2.66"),
        ("2.675", Rounding.HALF_EVEN, "2.68"),
        ("2.679", Rounding.DOWN, "2.67"),
        ("2.671", Rounding.UP, "2.68"),
        ("-2.675", Rounding.HALF_UP, "-2.68"),
    ],
)
def test_rounding_modes_to_the_fen(amount, mode, expected):
    assert round_money(Decimal(amount), mode) == Decimal(expected)


def test_unknown_rounding_mode_names_the_field():
    with pytest.raises(InvalidArgumentError, match="rounding"):
        Rounding.parse("bankers")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (Rounding.HALF_UP, ["10.01", "10.02", "10.00", "10.01"]),
        (Rounding.HALF_EVEN, ["10.00", "10.02", "10.00", "10.01"]),
        (Rounding.DOWN, ["10.00", "10.01", "10.00", "10.00"]),
        (Rounding.UP, ["10.01", "10.02", "10.01", "10.01"]),
    ],
)
def test_rounding_table_of_the_user_guide(mode, expected):
    """docs/schedules.md: 10.005, 10.015, 10.001 and 10.009 in each mode."""
    amounts = ["10.005", "10.015", "10.001", "10.009"]
    assert [str(round_money(Decimal(a), mode)) for a in amounts] == expected
