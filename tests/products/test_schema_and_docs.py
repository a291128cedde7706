"""The schema is a clean, documented subset of JSON Schema, and docs/products.md is generated from it."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from core.products import product_schema
from core.products.docs import BEGIN, DOCS_PATH, END, render_reference

#: the keywords an editor generated from the schema must understand; nothing else may appear
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "title", "description", "x-title-zh", "x-description-zh", "x-expression",
    "type", "properties", "required", "additionalProperties", "items", "enum", "minimum", "maximum",
    "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "pattern", "format", "default", "examples",
}


def walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, child in value.items():
                    yield from walk(child, f"{path}/{key}/{name}")
            elif key == "items":
                yield from walk(value, f"{path}/items")


def test_the_schema_is_valid_draft_2020_12_with_a_small_keyword_set():
    schema = product_schema()
    Draft202012Validator.check_schema(schema)
    used = {key for _, node in walk(schema) for key in node}
    assert used <= KEYWORDS, used - KEYWORDS


def test_every_field_has_an_english_and_a_chinese_title_and_every_section_a_description():
    schema = product_schema()
    for path, node in walk(schema):
        if "/properties/" in path and path.rsplit("/", 2)[-2] == "properties":
            merged = {**schema["$defs"].get(node.get("$ref", "").rsplit("/", 1)[-1], {}), **node}
            assert merged.get("title") and merged.get("x-title-zh"), path
    for name, node in schema["properties"].items():
        if name != "$schema":
            assert node.get("description") and node.get("x-description-zh"), name


def test_every_object_refuses_unknown_fields():
    for path, node in walk(product_schema()):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, path


def test_the_committed_reference_is_up_to_date():
    current = DOCS_PATH.read_text(encoding="utf-8")
    assert render_reference(current) == current, "run `loanfactory products docs`"
    assert "| `fees[].basis` |" in current and "| `score` | number |" in current


def test_rendering_replaces_only_the_generated_part():
    page = f"# Intro\n\n{BEGIN}\nSTALE TABLE\n{END}\n\n## After\n"
    rendered = render_reference(page)
    assert rendered.startswith("# Intro\n\n" + BEGIN) and rendered.endswith(END + "\n\n## After\n")
    assert "STALE TABLE" not in rendered and "### `amount`: Loan amount (贷款金额)" in rendered


def test_every_problem_code_the_validator_can_emit_is_documented():
    import re
    from pathlib import Path

    import core.products

    families = ("range", "money", "term", "rate", "repayment", "fee", "penalty", "prepayment", "collateral",
                "limits", "eligibility", "approval", "plugin", "gl", "notification", "expression", "apr", "json")
    pattern = re.compile(r'"((?:' + "|".join(families) + r')\.[a-z_]+)"')
    source = "".join(p.read_text(encoding="utf-8") for p in Path(core.products.__file__).parent.glob("*.py"))
    codes = set(pattern.findall(source)) | {"penalty.multiplier_missing", "penalty.daily_rate_missing"}
    assert len(codes) > 35
    page = DOCS_PATH.read_text(encoding="utf-8")
    assert sorted(code for code in codes if f"`{code}`" not in page) == []
