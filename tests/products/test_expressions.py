"""The condition language: what it accepts, what it computes, and what it refuses (with the offset)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import LoanFactoryError
from core.products.expressions import ConditionEvaluationError, ExpressionError, compile_condition


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("score < 650 or amount > 50000", {"score": 700, "amount": 60000}, True),
        ("score < 650 or amount > 50000", {"score": 700, "amount": 50000}, False),
        ("score >= 600 and not bureau_overdue", {"score": 600, "bureau_overdue": False}, True),
        ("region in ['310000', '110000']", {"region": "310000"}, True),
        ("region not in ['310000', '110000']", {"region": "310000"}, False),
        ("amount > 3 * monthly_income", {"amount": 10000, "monthly_income": 3000}, True),
        ("dti <= 0.45", {"dti": Decimal("0.45")}, True),
        ("0.1 + 0.2 == 0.3", {}, True),  # decimal, not binary floating point
        ("term in [3, 6, 12] and method == \"equal_installment\"", {"term": 6, "method": "equal_installment"}, True),
        ("-amount < -100", {"amount": 200}, True),
        ("(score < 600 or score > 900) and age >= 18", {"score": 950, "age": 30}, True),
        ("amount / term > 1000", {"amount": "12000", "term": 6}, True),
    ],
)
def test_condition_evaluates_like_the_arithmetic_says(text, context, expected):
    assert compile_condition(text).evaluate(context) is expected


def test_condition_lists_the_variables_it_needs():
    assert compile_condition("score < 650 or amount > 50000").variables == {"score", "amount"}


@pytest.mark.parametrize(
    ("text", "code", "offset"),
    [
        ("__import__('os').system('rm -rf /')", "expression.unknown_variable", 0),
        ("amount.__class__", "expression.syntax", 6),
        ("score.__class__.__mro__", "expression.syntax", 5),
        ("open('/etc/passwd')", "expression.unknown_variable", 0),
        ("eval('1')", "expression.unknown_variable", 0),
        ("lambda: 1", "expression.unknown_variable", 0),
        ("score < 650 or", "expression.syntax", 14),
        ("score <", "expression.syntax", 7),
        ("score < 'high'", "expression.type", 6),
        ("score and amount", "expression.type", 0),
        ("not amount", "expression.type", 4),
        ("amount > 1000 == true", "expression.syntax", 14),
        ("region in [region]", "expression.syntax", 11),
        ("region in [1, 2]", "expression.type", 11),
        ("salary > 1", "expression.unknown_variable", 0),
        ("amount", "expression.type", 0),
        ("score ; 1", "expression.syntax", 6),
        ("score < 650 @", "expression.syntax", 12),
        ("(score < 650", "expression.syntax", 12),
        ("'unterminated", "expression.syntax", 0),
        ("", "expression.syntax", 0),
    ],
)
def test_bad_conditions_are_refused_at_the_character_at_fault(text, code, offset):
    with pytest.raises(ExpressionError) as caught:
        compile_condition(text)
    assert (caught.value.code, caught.value.offset) == (code, offset)
    assert isinstance(caught.value, LoanFactoryError)


def test_nesting_and_length_are_bounded():
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_condition("(" * 60 + "score > 1" + ")" * 60)
    with pytest.raises(ExpressionError, match="longer than"):
        compile_condition("score > 1 and " * 40 + "score > 1")


def test_evaluation_refuses_a_missing_or_mistyped_variable_and_division_by_zero():
    condition = compile_condition("amount / term > 100")
    with pytest.raises(ConditionEvaluationError, match="term"):
        condition.evaluate({"amount": 1000})
    with pytest.raises(ConditionEvaluationError, match="term"):
        condition.evaluate({"amount": 1000, "term": "six"})
    with pytest.raises(ConditionEvaluationError, match="division by zero"):
        condition.evaluate({"amount": 1000, "term": 0})
    with pytest.raises(ConditionEvaluationError, match="region"):
        compile_condition("region == '31'").evaluate({"region": 31})


def test_a_custom_variable_set_can_be_declared():
    from core.products.expressions import Type

    condition = compile_condition("limit > 5", {"limit": Type.NUMBER})
    assert condition.evaluate({"limit": 6})
    with pytest.raises(ExpressionError):
        compile_condition("score > 5", {"limit": Type.NUMBER})
