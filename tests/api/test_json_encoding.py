"""JSON written with orjson means what the standard library wrote: the bureau report kept for an application,
the batched rows PostgreSQL unpacks with ``json_populate_recordset``, and the app's responses.

Each text is compared with the standard library's by what it parses to, never by its bytes: orjson writes no
spaces and no ``\\u`` escapes, and orders a report's keys by field. The inputs hold what a naive orjson call
gets wrong: decimals that are not floats (``0.10``, ``1E+2``), a zone offset with seconds (Shanghai's local
mean time before 1901, which orjson writes as whole minutes), a dataclass field named ``_...`` (which orjson
leaves out), dates that Flask writes as HTTP dates and orjson as ISO 8601.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, jsonify, render_template_string
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, Table, Text, insert, select
from sqlalchemy.orm import Session

from core.db.direct import _json_text, _json_value, batched_inserts, insert_rows
from core.origination.bureau_reports import report_from_json, report_to_json
from core.plugins.types import BlacklistRecord, BureauAccount, BureauInquiry, BureauReport, CourtRecord
from loanfactory.json_provider import OrjsonProvider
from plugins.sandbox_bureau.generator import generate_report

SHANGHAI = ZoneInfo("Asia/Shanghai")

REPORT = BureauReport(
    report_id="RPT-2026-0301-0001", bureau="人行征信中心", as_of=date(2026, 3, 1),
    accounts=(
        BureauAccount(account_id="a-1", lender="招联消费金融", lender_type="consumer_finance", account_type="D1",
                      opened_on=date(2024, 10, 1), closed_on=None, credit_amount=Decimal("1E+2"),
                      balance=Decimal("0.10"), overdue_amount=Decimal("0"), status="1",
                      grid="///////NNNNNN1NNNNNCCCCC"),
        BureauAccount(account_id="a-2", lender="工商银行", lender_type="bank", account_type="R1",
                      opened_on=date(2019, 5, 31), closed_on=date(2025, 11, 1), credit_amount=Decimal("50000.00"),
                      balance=Decimal("-0.00"), overdue_amount=Decimal("1234.5600"), status="3",
                      grid="NNNNNNNNNNNNNNNNNNNNNNNC"),
    ),
    inquiries=(BureauInquiry(queried_on=date(2026, 2, 28), institution="某某小贷", reason="02"),),
    court_records=(CourtRecord(case_number="(2025)京0105执123号", filed_on=date(2025, 6, 1), kind="执行",
                               amount=Decimal("5000.00"), status="终结本次执行"),),
    blacklist=(BlacklistRecord(source="失信被执行人", listed_on=date(2025, 7, 15), reason="有履行能力而拒不履行"),),
)


def _report_as_stored_before(report: BureauReport) -> str:
    """The text ``report_to_json`` wrote with the standard library (its old ``default``, keys sorted)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(report, default=plain, ensure_ascii=False, sort_keys=True)


def test_a_bureau_report_with_decimals_dates_and_chinese_text_means_what_the_standard_library_wrote() -> None:
    text = report_to_json(REPORT)
    assert json.loads(text) == json.loads(_report_as_stored_before(REPORT))
    assert json.loads(text)["accounts"][0]["balance"] == "0.10"  # the exact text, not a float
    assert "招联消费金融" in text


@pytest.mark.parametrize("id_number", ["110101199003074514", "440305198512120028", "310104200001010011"])
def test_a_sandbox_bureau_report_means_what_the_standard_library_wrote(id_number: str) -> None:
    report = generate_report(id_number, date(2026, 3, 1))
    assert json.loads(report_to_json(report)) == json.loads(_report_as_stored_before(report))
    assert report_from_json(report_to_json(report)) == report


def test_a_bureau_report_reads_back_whole_from_the_new_text_and_from_the_text_stored_before() -> None:
    for text in (report_to_json(REPORT), _report_as_stored_before(REPORT)):
        back = report_from_json(text)
        assert back == REPORT
        assert [str(a.balance) for a in back.accounts] == ["0.10", "-0.00"]  # == alone would take 0.1


def test_a_bureau_report_refuses_a_value_json_has_no_type_for() -> None:
    with pytest.raises(TypeError) as info:
        report_to_json(dataclasses.replace(REPORT, inquiries=(REPORT.inquiries[0], {"set"})))
    assert str(info.value.__cause__) == "cannot store set in a bureau report"


ROWS: list[dict[str, Any]] = [
    {"id": 1, "at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC), "on": date(2026, 3, 1),
     "amount": Decimal("1E+2"), "rate": Decimal("0.10"), "reason": None, "actor": "channel:微信 \"小程序\"\\",
     "local": datetime(2026, 3, 1, 17, 30, tzinfo=SHANGHAI), "lmt": datetime(1900, 1, 1, tzinfo=SHANGHAI),
     "naive": datetime(2026, 3, 1, 9, 30, 0, 5), "active": True, "duration_ms": 1.5},
    {"id": 2, "at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "on": date(1, 1, 1), "amount": Decimal("-0.000"),
     "rate": Decimal("12345678901234567890.123456789"), "reason": "人工复核", "actor": "", "local": None,
     "lmt": None, "naive": None, "active": False, "duration_ms": 0.0},
]


def _rows_as_written_before(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_value, ensure_ascii=False)


@pytest.mark.parametrize("rows", [
    ROWS,
    [{"id": 2 ** 70, "note": "an integer orjson refuses: the standard library writes it"}],
    [{"id": 3, "note": "a lone surrogate \ud800, refused by orjson"}],
], ids=["usual", "beyond-64-bits", "lone-surrogate"])
def test_batched_rows_mean_what_the_standard_library_wrote(rows: list[dict[str, Any]]) -> None:
    text = _json_text(rows)
    assert isinstance(text, str)
    assert json.loads(text) == json.loads(_rows_as_written_before(rows))


def test_batched_rows_keep_times_iso_8601_with_their_zone_and_decimals_exact() -> None:
    (first, second) = json.loads(_json_text(ROWS))
    assert first["at"] == "2026-03-01T09:30:15.123456+00:00"
    assert first["lmt"] == "1900-01-01T00:00:00+08:05:43"  # orjson itself would write +08:05
    assert (first["amount"], first["rate"], second["amount"]) == ("100", "0.10", "-0.000")


@pytest.mark.parametrize("value", [object(), time(9, 30), REPORT.inquiries[0], {1, 2}])
def test_a_batched_value_of_another_type_is_refused_as_before(value: Any) -> None:
    with pytest.raises(TypeError):
        _json_text([{"value": value}])


NOTES = Table("json_encoding_notes", MetaData(),
              Column("id", Integer, primary_key=True), Column("at", DateTime(timezone=True)),
              Column("on", Date), Column("amount", Numeric(30, 10)), Column("note", Text))


def test_batched_rows_reach_the_database_exact(db_session: Session) -> None:
    """On PostgreSQL the rows go as the JSON text above through ``json_populate_recordset``."""
    NOTES.create(db_session.connection())
    rows = [{"id": 1, "at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC), "on": date(2026, 3, 1),
             "amount": Decimal("1E+2"), "note": "人工复核 \"ok\""},
            {"id": 2, "at": datetime(2026, 3, 1, 17, 30, 0, 1, tzinfo=SHANGHAI), "on": None,
             "amount": Decimal("0.0000000001"), "note": None}]
    with batched_inserts(db_session):
        insert_rows(db_session, insert(NOTES), rows)
    back = [row._asdict() for row in db_session.execute(select(NOTES).order_by(NOTES.c.id))]
    if db_session.get_bind().dialect.name != "postgresql":  # SQLite keeps the wall time, not the zone
        rows = [row | {"at": row["at"].replace(tzinfo=None)} for row in rows]
    assert back == rows


@dataclass
class Payee:
    name: str
    _branch: int  # dataclasses.asdict keeps it; orjson writing the dataclass itself would leave it out
    opened_on: date
    limit: Decimal


RESPONSE: dict[str, Any] = {
    "zeta": 1, "alpha": {"amount": Decimal("0.10"), "big": Decimal("1E+2"), "none": None, "list": [1, 2.5, "三"]},
    "on": date(2026, 3, 1), "at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
    "local": datetime(2026, 3, 1, 17, 30, tzinfo=SHANGHAI), "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "payee": Payee(name="张三", _branch=7, opened_on=date(2025, 1, 2), limit=Decimal("50000.00")),
    "text": "招联消费金融 <b>&</b>", "nested": {"b": [{"y": 1, "x": (True, False)}], "a": {}},
}
WITH_INT_KEYS: dict[str, Any] = {"by_period": {1: "一", 10: "十", 2: Decimal("2.00")}, "flags": {1.5: True}}


def _both(app: Flask, value: Any) -> tuple[Any, Any]:
    """``value`` as the app's response and as Flask's default provider's, each read back."""
    with app.app_context():
        ours, flasks = app.json.response(value), DefaultJSONProvider(app).response(value)
    assert ours.mimetype == flasks.mimetype == "application/json"
    assert ours.get_data().endswith(b"\n")
    return ours, flasks


def test_the_app_writes_json_with_orjson(api_app: Flask) -> None:
    assert isinstance(api_app.json, OrjsonProvider)


@pytest.mark.parametrize("debug", [False, True], ids=["compact", "debug"])
@pytest.mark.parametrize("value", [RESPONSE, WITH_INT_KEYS, [RESPONSE, "二"]], ids=["usual", "int-keys", "list"])
def test_a_response_means_what_flasks_default_provider_wrote(api_app: Flask, debug: bool, value: Any) -> None:
    api_app.debug = debug
    ours, flasks = _both(api_app, value)
    assert json.loads(ours.get_data()) == json.loads(flasks.get_data())
    assert ours.get_data().startswith(b"[\n  " if isinstance(value, list) else b"{\n  ") == debug


def test_a_response_keeps_flasks_rules_for_dates_dataclasses_and_key_order(api_app: Flask) -> None:
    ours, _ = _both(api_app, RESPONSE)
    data = ours.get_json()
    assert data["on"] == "Sun, 01 Mar 2026 00:00:00 GMT" and data["at"] == "Sun, 01 Mar 2026 09:30:15 GMT"
    assert data["local"] == "Sun, 01 Mar 2026 09:30:00 GMT"
    assert data["payee"] == {"name": "张三", "_branch": 7, "opened_on": "Thu, 02 Jan 2025 00:00:00 GMT",
                             "limit": "50000.00"}
    assert data["alpha"]["amount"] == "0.10" and data["id"] == "12345678-1234-5678-1234-567812345678"
    text = ours.get_data(as_text=True)
    assert text.index('"alpha"') < text.index('"at"') < text.index('"zeta"')  # keys sorted, as Flask sorts them
    assert text.index('"limit"') < text.index('"name"')  # a dataclass's too


def test_a_response_writes_keys_that_are_not_strings_as_json_does(api_app: Flask) -> None:
    ours, _ = _both(api_app, WITH_INT_KEYS)
    assert ours.get_json() == {"by_period": {"1": "一", "10": "十", "2": "2.00"}, "flags": {"1.5": True}}


def test_a_usual_response_is_written_by_orjson_in_utf_8(api_app: Flask) -> None:
    """The orjson path, not Flask's: no ``\\u`` escapes, no spaces."""
    api_app.debug = False
    ours, flasks = _both(api_app, RESPONSE)
    assert "招联消费金融".encode() in ours.get_data() and b'": ' not in ours.get_data()
    assert "招联消费金融".encode() not in flasks.get_data()


@pytest.mark.parametrize("value", [{"amount": 2 ** 70}, {"note": "\ud800"}, {"by_period": {1: "一"}}],
                         ids=["beyond-64-bits", "lone-surrogate", "int-keys"])
def test_what_orjson_refuses_is_written_by_flasks_provider_exactly(api_app: Flask, value: Any) -> None:
    with api_app.app_context():
        assert api_app.json.dumps(value) == DefaultJSONProvider(api_app).dumps(value)


def test_calls_orjson_has_no_option_for_are_written_by_flasks_provider_exactly(api_app: Flask) -> None:
    flasks = DefaultJSONProvider(api_app)
    with api_app.app_context():
        for kwargs in ({"ensure_ascii": True}, {"indent": 1}, {"separators": (", ", ": ")}, {"indent": "\t"}):
            assert api_app.json.dumps(RESPONSE, **kwargs) == flasks.dumps(RESPONSE, **kwargs), kwargs
        template = "{{ value|tojson(indent=1) }}"
        ours = render_template_string(template, value=RESPONSE)
        api_app.json = flasks
        assert ours == render_template_string(template, value=RESPONSE)


def test_jsonify_and_the_json_module_go_through_the_provider(api_app: Flask) -> None:
    from flask import json as flask_json

    with api_app.app_context():
        assert json.loads(jsonify(RESPONSE).get_data()) == json.loads(DefaultJSONProvider(api_app).dumps(RESPONSE))
        assert json.loads(flask_json.dumps(RESPONSE)) == json.loads(DefaultJSONProvider(api_app).dumps(RESPONSE))
        assert "招联消费金融" in flask_json.dumps(RESPONSE)


@pytest.mark.parametrize("value", [object(), time(9, 30), {1, 2}, {"k": object()}])
def test_a_value_json_has_no_type_for_is_refused_as_flask_refuses_it(api_app: Flask, value: Any) -> None:
    with api_app.app_context(), pytest.raises(TypeError, match="is not JSON serializable"):
        api_app.json.dumps(value)
