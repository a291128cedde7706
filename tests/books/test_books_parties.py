"""Customers: resident ID and phone validated and normalised, errors naming the field, one customer per ID."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from books.factories import ID_NUMBER, add_customer
from core.customers.parties import Customer, InvalidCustomerError


def test_the_gb11643_example_id_gives_birth_date_and_region():
    customer = Customer(name=" 张三 ", id_number="11010519491231002x", phone="+86 138-1234-5678")
    assert customer.id_number == ID_NUMBER
    assert customer.birth_date == date(1949, 12, 31)
    assert customer.region == "北京市朝阳区"
    assert customer.phone == "13812345678"
    assert customer.name == "张三"


@pytest.mark.parametrize(("field", "kwargs"), [
    ("id_number", {"id_number": "110105194912310021"}),  # wrong check digit
    ("id_number", {"id_number": "11010519491331002X"}),  # month 13
    ("phone", {"phone": "12345"}),
    ("phone", {"phone": "+1 650 253 0000"}),  # valid, but not a Chinese number
    ("phone", {"phone": "010 1234 5678"}),  # a Beijing landline: valid, but no mobile
    ("phone", {"phone": "400 123 4567"}),  # a service number
    ("name", {"name": "  "}),
    ("monthly_income", {"monthly_income": -1}),
])
def test_invalid_customer_fields_are_refused_naming_the_field(field, kwargs):
    values = {"name": "张三", "id_number": ID_NUMBER, "phone": "13812345678", **kwargs}
    with pytest.raises(InvalidCustomerError) as info:
        Customer(**values)
    assert info.value.field == field
    assert field in str(info.value)


def test_one_resident_id_is_one_customer(db_session):
    add_customer(db_session)
    with pytest.raises(IntegrityError):
        add_customer(db_session, phone="13912345678")
