"""The product editor is generated from the product JSON Schema and reads back what it shows."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from admin.schema_form import MISSING, apply_edit, build, flatten, parse, resolve
from core.products import product_schema, validate_product
from core.products.problems import load_json

SAMPLE = Path(__file__).resolve().parents[2] / "product_configs" / "consumer_installment.json"


def sample():
    return load_json(SAMPLE.read_text(encoding="utf-8"))


def normalised(document):
    """Numbers as text, so "0.18" typed in a box and 0.18 read from JSON compare equal."""
    return json.loads(json.dumps(document, default=str), parse_float=str, parse_int=int)


def test_the_sample_product_survives_a_round_trip_through_the_form():
    schema = product_schema()
    document = sample()
    document.pop("$schema", None)
    form = flatten(build(schema, document))
    assert normalised(parse(schema, form)) == normalised(document)


def test_a_credit_line_product_survives_a_round_trip_and_a_loan_gets_no_empty_line_section():
    schema = product_schema()
    line = load_json((SAMPLE.parent / "revolving_credit_line.json").read_text(encoding="utf-8"))
    line.pop("$schema", None)
    form = flatten(build(schema, line))
    assert form["/credit_line/limit/max"] == "100000.00" and form["/kind"] == "credit_line"
    assert normalised(parse(schema, form)) == normalised(line)
    loan = parse(schema, flatten(build(schema, sample())))
    assert "credit_line" not in loan and "kind" not in loan


def test_every_leaf_of_the_sample_has_exactly_one_input_named_by_its_pointer():
    form = flatten(build(product_schema(), sample()))
    assert form["/code"] == sample()["code"]
    assert form["/fees#count"] == str(len(sample()["fees"]))
    assert "/approval/0/kind" in form and "/name/zh" in form


def test_nested_arrays_fees_approval_steps_and_collateral_types_are_generated():
    tree = build(product_schema(), {"collateral": {"required": True, "types": [{"type": "vehicle", "max_ltv": "0.7"}]},
                                    "fees": [{"code": "service"}], "approval": [{"kind": "manual"}]})
    pointers = tree.pointers()
    assert {"/collateral/types/0/type", "/collateral/types/0/max_ltv", "/fees/0/value", "/approval/0/sla_hours",
            "/approval/0/four_eyes_when"} <= pointers
    step_kind = next(n for n in tree.children if n.pointer == "/approval").children[0].children[0]
    assert step_kind.input_type == "select" and step_kind.options == ["automatic", "manual"]


def test_labels_follow_the_language():
    schema = product_schema()
    assert build(schema, {}, locale="zh_CN").children[0].label == "产品代码"
    assert build(schema, {}, locale="en").children[0].label == "Product code"


def test_a_wrong_value_is_kept_as_typed_so_the_validator_reports_it_at_its_field():
    schema = product_schema()
    document = sample()
    form = flatten(build(schema, document))
    form["/overdue_grace_days"] = "three"
    form["/code"] = "bad code"
    parsed = parse(schema, form)
    assert parsed["overdue_grace_days"] == "three"
    pointers = {problem.pointer for problem in validate_product(parsed, prove=False)}
    assert {"/overdue_grace_days", "/code"} <= pointers


def test_empty_optional_sections_are_left_out_and_empty_required_ones_report_their_fields():
    schema = product_schema()
    parsed = parse(schema, {"/code": "CASH_LOAN"})
    assert "collateral" not in parsed and "description" not in parsed
    assert parsed["amount"] == {}
    pointers = {problem.pointer for problem in validate_product(parsed, prove=False)}
    assert "/amount/min" in pointers and "/name/zh" in pointers


def test_adding_and_removing_items_edits_the_right_array():
    schema = product_schema()
    document = {"fees": [{"code": "a"}, {"code": "b"}]}
    assert apply_edit(schema, document, "add:/fees")["fees"][-1] == {}
    assert apply_edit(schema, document, "remove:/fees/0")["fees"] == [{"code": "b"}]
    assert apply_edit(schema, {}, "add:/collateral/types") == {"collateral": {"types": [{}]}}
    assert apply_edit(schema, {}, "add:/repayment/methods") == {"repayment": {"methods": [""]}}
    assert document == {"fees": [{"code": "a"}, {"code": "b"}]}


@pytest.mark.parametrize("edit", ["add:/code", "remove:/fees/9", "remove:/fees", "explode:/fees"])
def test_a_malformed_edit_is_refused(edit):
    with pytest.raises(ValueError):
        apply_edit(product_schema(), {"fees": [], "code": "X"}, edit)


def test_typed_numbers_become_exact_values():
    schema = {"type": "object", "properties": {"n": {"type": "number"}, "i": {"type": "integer"},
                                               "b": {"type": "boolean"}}}
    assert parse(schema, {"/n": "0.1", "/i": "7", "/b": "false"}) == {"n": Decimal("0.1"), "i": 7, "b": False}
    assert parse(schema, {"/n": ""}, required=False) is MISSING


def test_references_merge_with_the_referring_keywords():
    root = {"$defs": {"money": {"type": "string", "title": "Money"}}}
    assert resolve({"$ref": "#/$defs/money", "title": "Minimum"}, root) == {"type": "string", "title": "Minimum"}


def test_rates_and_caps_are_typed_as_percentages_and_stored_as_the_exact_fraction():
    """The sample's default rate "0.1400" shows as 14.00 (%), and 15.5 typed (with or without the sign)
    is stored as "0.155"; the APR cap 24% and the DTI limit read the same way."""
    schema = product_schema()
    tree = build(schema, sample())
    form = flatten(tree)
    assert form["/rate/annual/default"] == "14.00" and form["/compliance/apr_cap/rate"] == "24"
    rate = next(n for n in tree.children if n.pointer == "/rate").children[0].children[2]
    assert (rate.pointer, rate.input_type) == ("/rate/annual/default", "percent")
    for typed in ("15.5", "15.5%", " 15.5 % "):
        assert parse(schema, {**form, "/rate/annual/default": typed})["rate"]["annual"]["default"] == "0.155"
    assert Decimal(parse(schema, form)["eligibility"]["max_dti"]) == Decimal(sample()["eligibility"]["max_dti"])
    assert parse(schema, {**form, "/rate/annual/default": "abc"})["rate"]["annual"]["default"] == "abc"
