"""Every shipped sample product passes the whole validation, proof included."""

from __future__ import annotations

import pytest

from core.products import check_product
from tests.products.helpers import REGISTRY, SAMPLES, sample


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_product_is_sound_and_proven_under_its_cap(name):
    report = check_product(sample(name), plugins=REGISTRY)
    assert report.problems == []
    assert report.proof is not None and report.proof.passed
    assert report.proof.worst.bound <= report.proof.cap


def test_a_document_parsed_with_floats_validates_as_the_decimals_it_was_written_with():
    """A web framework's JSON body holds 0.0020 as the float 0.002; it is read back as Decimal('0.002')."""
    import json

    from core.products import Product
    from tests.products.helpers import SAMPLES_DIR

    text = (SAMPLES_DIR / "consumer_installment.json").read_text(encoding="utf-8")
    document = json.loads(text.replace('"0.0020"', "0.0020").replace('"10000.00"', "10000.00"))
    assert isinstance(document["fees"][0]["value"], float)
    assert check_product(document, plugins=REGISTRY).ok
    product = Product(document)
    assert str(product.fees("per_installment")[0].value) == "0.002" and str(product.amount.default) == "10000.0"


def test_other_schemas_can_reference_the_product_schema_through_its_registry():
    from jsonschema import Draft202012Validator

    from core.products.problems import product_schema, schema_registry

    money = {"$ref": product_schema()["$id"] + "#/$defs/money"}
    validator = Draft202012Validator(money, registry=schema_registry())
    assert validator.is_valid("1000.50") and not validator.is_valid("1000.505")


def test_load_product_returns_typed_accessors_or_every_problem():
    from decimal import Decimal

    from core.products import InvalidProductError, load_product
    from tests.products.helpers import SAMPLES_DIR

    product = load_product(SAMPLES_DIR / "consumer_installment.json", plugins=REGISTRY)
    assert (product.code, product.name_zh, product.term_default) == ("CONSUMER_INSTALLMENT", "消费分期贷", 12)
    assert product.terms() == [3, 6, 9, 12, 18, 24]
    assert [product.rate_for_score(s) for s in (600, 560, 540, 500, 400, None)] == [
        Decimal(r) for r in ("0.0800", "0.1100", "0.1400", "0.1700", "0.1400", "0.1400")]
    assert product.amount.contains(Decimal("10100")) and not product.amount.contains(Decimal("10150"))
    assert product.credit_limits == (Decimal("200000.00"), 3)
    assert product.apr_cap == (Decimal("0.24"), "nominal_irr")
    broken = sample("consumer_installment.json")
    broken["amount"]["default"] = "1"
    broken["plugins"]["esign"] = "nobody"
    try:
        load_product(broken, plugins=REGISTRY)
    except InvalidProductError as error:
        assert [p.code for p in error.problems] == ["range.default_out_of_range", "plugin.unknown"]
        assert "2 problem(s)" in str(error)
    else:
        raise AssertionError("load_product accepted a broken product")


def test_a_schedule_from_the_product_carries_its_fees():
    """10,000 over 12 months at 14%: each installment has the 0.2% service fee, 20.00, on top."""
    from datetime import date

    from core.products import Product

    product = Product(sample("consumer_installment.json"))
    schedule = product.schedule("10000", 12, "equal_installment", date(2026, 3, 10), "0.14")
    assert {row.fee for row in schedule.installments} == {20}
    assert schedule.installments[0].total == schedule.installments[0].principal + schedule.installments[0].interest + 20


def test_the_samples_name_plugins_the_real_plugin_manager_loads_with_every_hook_their_jobs_need():
    from core.plugins.manager import make_plugin_manager
    from core.products.references import plugin_registry

    registry = plugin_registry(make_plugin_manager())
    for name in SAMPLES:
        assert check_product(sample(name), plugins=registry, prove=False).problems == [], name
