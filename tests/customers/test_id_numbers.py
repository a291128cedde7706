"""A resident ID number is valid only with a county the region table knows for its birth year."""

import pytest
from stdnum.cn import ric

from core.customers.parties import InvalidCustomerError, normalise_id_number


def _with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def test_a_number_under_a_province_level_code_is_refused_naming_the_field() -> None:
    """110001 is in the table as Beijing without a county: stdnum's lookup fails on it with a KeyError, which
    must read as an invalid number (found by schemathesis), not a server error."""
    number = _with_check_digit("11000119900101001")
    with pytest.raises(InvalidCustomerError) as refused:
        normalise_id_number(number)
    assert refused.value.field == "id_number"


def test_a_number_under_a_county_code_is_accepted() -> None:
    number = _with_check_digit("11010119900101001")
    assert normalise_id_number(number) == number
