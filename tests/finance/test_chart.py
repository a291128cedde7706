"""The chart of accounts as data: the shipped chart, its validation with pointers, its versions."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.finance.chart import KERNEL_ACCOUNTS, InvalidChartError, chart_problems, parse_chart, shipped_chart
from core.finance.charts import chart_in_force, load_chart
from core.products.validate import check_product, read_document

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "product_configs").glob("*.json"))


def document() -> dict:
    return copy.deepcopy(shipped_chart().to_json())


def pointers(doc: object) -> list[tuple[str, str]]:
    return [(p.pointer, p.code) for p in chart_problems(doc)]


def test_the_shipped_chart_is_sound_and_maps_every_kernel_account_to_a_leaf_of_its_type():
    chart = shipped_chart()
    assert chart_problems(chart.to_json()) == []
    parents = {a.parent for a in chart.accounts.values()}
    for kernel in KERNEL_ACCOUNTS:
        code = chart.kernel_accounts[kernel]
        assert code in chart and code not in parents
    assert chart.default_for("1002.sandbox_bank") == chart.kernel_accounts["1002"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_products_codes_are_in_the_shipped_chart(path):
    report = check_product(read_document(path), chart=shipped_chart(), prove=False)
    assert [p for p in report.problems if p.pointer.startswith("/gl_accounts")] == []


def test_a_product_naming_a_code_outside_the_chart_is_refused_at_its_role():
    product = read_document(SAMPLES[0])
    product["gl_accounts"]["interest_income"] = "609999"
    problems = check_product(product, chart=shipped_chart(), prove=False).problems
    assert [(p.pointer, p.code) for p in problems] == [("/gl_accounts/interest_income", "gl.unknown_account")]


def test_every_fault_of_a_chart_is_named_with_its_pointer():
    doc = document()
    codes = [a["code"] for a in doc["accounts"]]
    doc["accounts"][codes.index("130101")]["parent"] = "9999"
    doc["accounts"][codes.index("601102")]["code"] = "601101"
    doc["accounts"][codes.index("224101")]["type"] = "cash"
    doc["accounts"][codes.index("6021")]["normal_side"] = "left"
    del doc["kernel_accounts"]["6702"]
    doc["kernel_accounts"]["1303"] = "1303"      # has sub-accounts
    doc["kernel_accounts"]["6011"] = "113201"    # an asset for an income account
    doc["kernel_accounts"]["9999"] = "130101"
    doc["version"] = 0
    assert pointers(doc) == sorted([
        (f"/accounts/{codes.index('130101')}/parent", "chart.unknown_parent"),
        (f"/accounts/{codes.index('601102')}/code", "chart.duplicate"),
        (f"/accounts/{codes.index('224101')}/type", "chart.type"),
        (f"/accounts/{codes.index('6021')}/normal_side", "chart.normal_side"),
        (f"/accounts/{codes.index('224101')}/parent", "chart.parent_type"),
        ("/kernel_accounts/1303", "chart.not_a_leaf"),
        ("/kernel_accounts/6011", "chart.kernel_type"),
        ("/kernel_accounts/2241", "chart.kernel_type"),     # 224101 is no longer a liability
        ("/kernel_accounts/6012", "gl.unknown_account"),    # 601102 was renamed away
        ("/kernel_accounts/6702", "chart.unmapped_kernel_account"),
        ("/kernel_accounts/9999", "chart.unknown_kernel_account"),
        ("/version", "chart.version"),
    ])
    with pytest.raises(InvalidChartError) as raised:
        parse_chart(doc)
    assert raised.value.field == "chart" and len(raised.value.problems) == 12


def test_a_cycle_of_parents_is_refused():
    doc = document()
    codes = [a["code"] for a in doc["accounts"]]
    doc["accounts"][codes.index("1303")]["parent"] = "130101"
    assert (f"/accounts/{codes.index('1303')}/parent", "chart.parent_cycle") in pointers(doc)


def test_a_loaded_version_is_in_force_from_its_date_and_audited(books):
    assert chart_in_force(books, date(2026, 3, 1)) == shipped_chart()
    doc = document()
    doc["version"], doc["effective_from"] = 2, "2026-07-01"
    doc["accounts"].append({"code": "130104", "name_zh": "贷款-装修贷款", "name_en": "Loans - home improvement",
                            "type": "asset", "normal_side": "debit", "parent": "1303"})
    load_chart(books, doc, actor="finance-li")
    assert "130104" not in chart_in_force(books, date(2026, 6, 30))
    assert "130104" in chart_in_force(books, date(2026, 7, 1))
    event = books.scalars(select(AuditEvent).where(AuditEvent.action == "chart.load")).one()
    assert (event.actor, event.entity_id, event.after["effective_from"]) == ("finance-li", "2", "2026-07-01")
    with pytest.raises(InvalidChartError) as raised:
        load_chart(books, doc, actor="finance-li")
    assert raised.value.problems[0].pointer == "/version"
    doc["version"], doc["effective_from"] = 3, "2026-06-01"
    with pytest.raises(InvalidChartError) as raised:
        load_chart(books, doc, actor="finance-li")
    assert raised.value.problems[0].pointer == "/effective_from"


def test_the_shipped_file_is_the_documented_layout():
    raw = json.loads((Path(__file__).resolve().parents[2] / "product_configs" / "chart" / "chart_of_accounts.json")
                     .read_text(encoding="utf-8"))
    assert set(raw) == {"version", "effective_from", "source", "accounts", "kernel_accounts"}
    assert all(set(a) == {"code", "name_zh", "name_en", "type", "normal_side", "parent"} for a in raw["accounts"])
