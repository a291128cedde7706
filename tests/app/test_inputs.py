"""What every face accepts from a person or a channel: amounts, dates, date-times and storable text (core)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.errors import FloatMoneyError, InputError
from core.inputs import MAX_DEPTH, document_problems, parse_date, parse_datetime, parse_text
from core.money import MoneyInputError, parse_money


@pytest.mark.parametrize(("value", "amount"), [
    ("5000", "5000"), ("5000.5", "5000.5"), ("5000.00", "5000.00"), ("0.01", "0.01"),
    ("9999999999999.99", "9999999999999.99"), (5000, "5000"), (Decimal("5000.00"), "5000.00"),
    (Decimal("5E+3"), "5E+3"), (Decimal("9999999999999"), "9999999999999"),
])
def test_an_amount_in_the_documented_forms_is_read_exactly(value: object, amount: str) -> None:
    assert parse_money(value, positive=True) == Decimal(amount)


@pytest.mark.parametrize("value", [
    " 5000.00 ", "５０００", "٥٠٠٠", "5_000", "+5000.00", "5E3", "5,000.00", "5000.00\n", "-5000", ".5", "5.",
    "5000.001", "12345678901234", "1e400", "NaN", "Infinity", "0x10", "",
    Decimal("1E+26"), Decimal("1E+400"), Decimal("NaN"), Decimal("-1"), Decimal("0.001"), 10**30,
    Decimal("9999999999999.01"), True, None, [], {},
])
def test_an_amount_in_any_other_form_is_refused_naming_the_field(value: object) -> None:
    with pytest.raises(MoneyInputError) as refused:
        parse_money(value, "monthly_income")
    assert refused.value.field == "monthly_income" and str(refused.value).startswith("monthly_income: ")


def test_zero_is_an_amount_unless_it_must_be_positive_and_a_float_is_never_one() -> None:
    assert parse_money("0") == parse_money(Decimal("-0")) == 0 and str(parse_money(Decimal("-0"))) == "0"
    with pytest.raises(MoneyInputError, match="amount: must be greater than 0"):
        parse_money("0.00", positive=True)
    with pytest.raises(FloatMoneyError):
        parse_money(0.1)


@pytest.mark.parametrize(("value", "day"), [("2026-03-02", date(2026, 3, 2)), ("2000-01-01", date(2000, 1, 1)),
                                            ("2099-12-31", date(2099, 12, 31))])
def test_a_date_is_yyyy_mm_dd_within_the_years_a_loan_lives(value: str, day: date) -> None:
    assert parse_date(value, "paid_on") == day


@pytest.mark.parametrize(("value", "why"), [
    ("9999-12-31", "must be from 2000-01-01 to 2099-12-31"), ("1999-12-31", "must be from 2000-01-01 to 2099-12-31"),
    ("2026-02-30", "2026-02-30 is not a date that exists"), ("20260302", "must be a date as YYYY-MM-DD"),
    ("2026-W10-1", "must be a date as YYYY-MM-DD"), ("２０２６-03-02", "must be a date as YYYY-MM-DD"),
    ("2026-03-02T00:00", "must be a date as YYYY-MM-DD"), (20260302, "must be a date as YYYY-MM-DD"),
])
def test_any_other_date_is_refused_saying_why(value: object, why: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_date(value, "paid_on")
    assert (refused.value.field, refused.value.reason) == ("paid_on", why)


def test_a_date_time_carries_its_offset_and_its_date_lies_in_the_range() -> None:
    assert parse_datetime("2026-03-02T10:00:00+08:00", "granted_at") == datetime(2026, 3, 2, 2, tzinfo=UTC)
    assert parse_datetime("2026-03-02T02:00:00.5Z", "granted_at").tzinfo is not None
    for value in ("2026-03-02T10:00:00", "2026-03-02", "2026-03-02 10:00:00+08:00", "9999-12-31T23:59:59-12:00",
                  "2026-03-02T25:00:00+08:00", "2026-03-02T10:00:00+99:00"):
        with pytest.raises(InputError):
            parse_datetime(value, "granted_at")
    assert parse_datetime("2099-12-31T23:59:59-12:00", "granted_at").astimezone(UTC).year == 2100


def test_text_the_database_cannot_store_is_found_wherever_it_is_in_a_document() -> None:
    document = {"name": "张三", "a\x00": 1, "applicant": {"name": "\ud800x"}, "documents": [{"type": "ok"},
                                                                                        {"type": "b\x00"}]}
    assert document_problems(document) == [
        (("a\x00",), "must not contain a NUL character"),
        (("applicant", "name"), "must be valid Unicode (a lone surrogate is not)"),
        (("documents", "1", "type"), "must not contain a NUL character")]
    deep: object = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    assert document_problems({"x": deep}) == [((), f"must not nest deeper than {MAX_DEPTH} levels")]
    assert parse_text(" 张三 ", "name", 50) == "张三"
    with pytest.raises(InputError, match="name: must be at most 2 characters"):
        parse_text("张三丰", "name", 2)
