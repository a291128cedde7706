"""Bad input is refused with a LoanFactoryError whose message and ``field`` name the argument."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.daycount import DayCount
from core.errors import FloatMoneyError, InvalidArgumentError, LoanFactoryError
from core.schedule import LoanTerms

D = Decimal
GOOD = {"principal": D("10000.00"), "annual_rate": D("0.12"), "periods": 12, "start_date": date(2026, 1, 15)}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": D("-100.00")}, "principal"),
        ({"principal": D(0)}, "principal"),
        ({"principal": D("100.001")}, "principal"),
        ({"principal": D("1e20")}, "principal"),
        ({"principal": "lots"}, "principal"),
        ({"periods": 0}, "periods"),
        ({"periods": 601}, "periods"),
        ({"periods": 1.5}, "periods"),
        ({"periods": True}, "periods"),
        ({"annual_rate": D("-0.01")}, "annual_rate"),
        ({"annual_rate": D("1.01")}, "annual_rate"),
        ({"method": "french"}, "method"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"frequency": "daily"}, "frequency"),
        ({"day_count": "ACT/999"}, "day_count"),
        ({"rounding": "bankers"}, "rounding"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": datetime(2026, 1, 15, 9, 30)}, "start_date"),
        ({"fee_per_period": D("-1.00")}, "fee_per_period"),
        ({"fee_per_period": D("0.005")}, "fee_per_period"),
        ({"upfront_fee": D("10000.00")}, "upfront_fee"),
        ({"due_day_rule": "fixed_day"}, "repayment_day"),
        ({"due_day_rule": "fixed_day", "repayment_day": 32}, "repayment_day"),
        ({"due_day_rule": "fixed_day", "repayment_day": 8, "frequency": "weekly"}, "repayment_day"),
        ({"due_day_rule": "fixed_day", "repayment_day": 1, "method": "bullet", "frequency": "daily"},
         "due_day_rule"),
        ({"grace_periods": 12}, "grace_periods"),
        ({"grace_periods": -1}, "grace_periods"),
        ({"grace_periods": 1, "method": "bullet"}, "grace_periods"),
        ({"grace_type": "forgiven"}, "grace_type"),
    ],
)
def test_bad_terms_are_refused_naming_the_argument(overrides, field):
    with pytest.raises(LoanFactoryError) as raised:
        LoanTerms(**{**GOOD, **overrides})
    assert isinstance(raised.value, InvalidArgumentError)
    assert raised.value.field == field
    assert field in str(raised.value)


@pytest.mark.parametrize("name", ["principal", "annual_rate", "fee_per_period", "upfront_fee"])
def test_a_float_where_money_or_a_rate_is_expected_is_refused(name):
    with pytest.raises(FloatMoneyError, match=name) as raised:
        LoanTerms(**{**GOOD, name: 0.05 if name != "principal" else 10000.0})
    assert raised.value.field == name


def test_enum_names_are_accepted_whatever_their_case():
    terms = LoanTerms(**GOOD, method="Equal_Principal", day_count="act/365f")
    assert (terms.method.value, terms.day_count) == ("equal_principal", DayCount.ACT_365F)


def test_money_is_kept_with_two_places():
    assert str(LoanTerms(**{**GOOD, "principal": 5000}).principal) == "5000.00"
