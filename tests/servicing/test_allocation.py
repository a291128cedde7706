"""Repayment allocation, worked by hand.

Two installments are owed: period 1 (due 2026-03-15) owes penalty 3.00, fee 10.00, interest 50.00,
principal 800.00 = 863.00; period 2 (due 2026-04-15) owes penalty 0, fee 10.00, interest 45.00, principal
805.00 = 860.00. Together 1,723.00.
"""

from datetime import date
from decimal import Decimal as D

import pytest

from core.errors import InvalidArgumentError
from core.loans.allocation import AllocationBasis, AllocationOrder, Component, Due, allocate

P1 = Due(1, date(2026, 3, 15), penalty=D("3.00"), fee=D("10.00"), interest=D("50.00"), principal=D("800.00"))
P2 = Due(2, date(2026, 4, 15), fee=D("10.00"), interest=D("45.00"), principal=D("805.00"))


def test_partial_payment_of_40__settles_penalty_fee_then_27_of_interest_on_the_oldest():
    result = allocate(D("40.00"), [P2, P1])
    assert [(x.period, x.component, x.amount) for x in result.lines] == [
        (1, Component.PENALTY, D("3.00")), (1, Component.FEE, D("10.00")), (1, Component.INTEREST, D("27.00"))]
    assert result.excess == 0


def test_exact_payment_of_1723__settles_everything_with_no_excess():
    result = allocate(D("1723.00"), [P1, P2])
    assert result.excess == 0
    assert result.applied == D("1723.00")
    assert result.total(Component.PRINCIPAL) == D("1605.00")
    assert result.for_period(2) == {Component.FEE: D("10.00"), Component.INTEREST: D("45.00"),
                                    Component.PRINCIPAL: D("805.00")}


def test_over_payment_of_2000__leaves_277_excess_for_suspense():
    result = allocate(D("2000.00"), [P1, P2])
    assert result.excess == D("277.00")
    assert result.applied == D("1723.00")


def test_component_basis__pays_every_fee_and_interest_before_any_principal():
    order = AllocationOrder(basis=AllocationBasis.COMPONENT)
    result = allocate(D("120.00"), [P1, P2], order)
    assert result.total(Component.PENALTY) == D("3.00")
    assert result.total(Component.FEE) == D("20.00")
    assert result.total(Component.INTEREST) == D("95.00")
    assert result.total(Component.PRINCIPAL) == D("2.00")


def test_custom_order_interest_first__named_as_in_product_json():
    order = AllocationOrder(("interest", "principal", "fee", "penalty"))
    result = allocate(D("858.00"), [P1], order)
    assert result.for_period(1) == {Component.INTEREST: D("50.00"), Component.PRINCIPAL: D("800.00"),
                                    Component.FEE: D("8.00")}
    assert result.excess == 0 and result.total(Component.PENALTY) == 0


@pytest.mark.parametrize("order", [["interest", "principal", "fee"], ["interest", "interest", "fee", "principal"],
                                   ["interest", "principal", "fee", "tax"]])
def test_an_order_that_does_not_name_each_component_once_is_refused(order):
    with pytest.raises(InvalidArgumentError) as error:
        AllocationOrder(tuple(order))
    assert error.value.field == "allocation_order"


def test_unknown_basis_is_refused_naming_the_field():
    with pytest.raises(InvalidArgumentError) as error:
        AllocationOrder(basis="random")
    assert error.value.field == "allocation_basis"


@pytest.mark.parametrize("amount", [D(0), D("-1"), D("0.001")])
def test_a_payment_that_is_not_positive_whole_fen_is_refused(amount):
    with pytest.raises(InvalidArgumentError) as error:
        allocate(amount, [P1])
    assert error.value.field == "amount"


def test_a_float_payment_is_refused():
    with pytest.raises(InvalidArgumentError):
        allocate(10.5, [P1])


def test_a_negative_owed_amount_is_refused_naming_the_component():
    with pytest.raises(InvalidArgumentError) as error:
        allocate(D("1.00"), [Due(1, date(2026, 1, 1), interest=D("-1"))])
    assert error.value.field == "interest"
