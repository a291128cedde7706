"""The registry codes of an enterprise file, against the standards' own arithmetic written out here."""

from __future__ import annotations

import pytest

from core.customers.codes import INDUSTRY_STANDARD, normalise_credit_code, normalise_industry_code
from core.customers.parties import InvalidCustomerError

#: GB 32100-2015 Table 1: the 31 characters, valued 0..30 in this order
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(first17: str) -> str:
    """The 18th character: weights 3^i mod 31 for positions 0..16, then 31 - (sum mod 31) (31 -> '0')."""
    total = sum(ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return ALPHABET[(31 - total % 31) % 31]


def gb11714_check(first8: str) -> str:
    """The organisation code's 9th character: weights 3 7 9 10 5 8 4 2; 11 - (sum mod 11); 10 X, 11 0."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in first8]
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def credit_code(prefix8: str = "91440300", organisation8: str = "71526726") -> str:
    first17 = prefix8 + organisation8 + gb11714_check(organisation8)
    return first17 + gb32100_check(first17)


@pytest.mark.parametrize("published", ["91110000600037341L", "9144030071526726XG", "91330100716105852F"])
def test_published_credit_codes_are_valid(published):
    assert gb32100_check(published[:17]) == published[17]
    assert normalise_credit_code(published) == published


def test_a_built_code_passes_and_is_normalised_from_lower_case_and_full_width():
    code = credit_code("91310000", "13221753")
    assert normalise_credit_code(code.lower()) == code
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    assert normalise_credit_code(" " + full_width + " ") == code


def test_a_mistyped_character_is_refused_naming_the_field():
    code = "91110000600037341L"
    mistyped = code[:10] + ("1" if code[10] != "1" else "2") + code[11:]
    with pytest.raises(InvalidCustomerError) as refused:
        normalise_credit_code(mistyped)
    assert refused.value.field == "credit_code"


def test_a_forged_code_with_a_recomputed_last_character_but_a_wrong_organisation_check_is_refused():
    """A forger who recomputes the GB 32100 character still breaks the organisation code's own check."""
    organisation = "71526726"
    wrong = "0" if gb11714_check(organisation) != "0" else "1"
    first17 = "91440300" + organisation + wrong
    forged = first17 + gb32100_check(first17)
    with pytest.raises(InvalidCustomerError, match="credit_code"):
        normalise_credit_code(forged)


@pytest.mark.parametrize("bad", ["", "9111000060003734", "91110000600037341LL", "I1110000600037341L", None, 91110000])
def test_malformed_codes_are_refused(bad):
    with pytest.raises(InvalidCustomerError):
        normalise_credit_code(bad)


@pytest.mark.parametrize(("given", "stored"), [("C1311", "C1311"), ("1311", "C1311"), ("c13", "C13"),
                                               ("I6513", "I6513"), ("A01", "A01"), ("T97", "T97"), ("70", "K70")])
def test_industry_codes_take_their_section_letter(given, stored):
    assert normalise_industry_code(given) == stored


@pytest.mark.parametrize("bad", ["C98", "00", "Z13", "A13", "C1", "C13111", "", None])
def test_industry_codes_outside_the_standard_are_refused(bad):
    with pytest.raises(InvalidCustomerError) as refused:
        normalise_industry_code(bad)
    assert refused.value.field == "industry_code"


def test_every_division_from_01_to_97_has_one_section_and_98_99_none():
    owners = {division: INDUSTRY_STANDARD.section_of(division) for division in range(1, 100)}
    assert all(owners[d] is not None for d in range(1, 98))
    assert owners[98] is None and owners[99] is None
    assert len(set(owners.values()) - {None}) == 20  # sections A to T
