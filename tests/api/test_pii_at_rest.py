"""No personal data in clear at rest: after the whole channel path (quote, apply, accept, contract, sign,
disburse, settle, repay) every text, JSON and binary column of every table is read back raw and searched
for the applicant's ID number, phone and name, as written and as JSON escapes them (``\\u6b27`` for 欧).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import JSON, LargeBinary, String, Text, column, inspect, select, table

from loanfactory.database import get_db
from tests.api.conftest import (
    APPLY,
    Channel,
    application_body,
    id_number,
    new_key,
    webhooks_sent,
)
from tests.api.test_whole_path import Receiver, app_selling_on, settle_and_call_back

NAME = "欧阳娜娜"
PHONE = "13987654321"
ID_NUMBER = id_number("19900101", 5)


def clear_forms(value: str) -> set[str]:
    """``value`` as it would sit in a column in clear: itself, JSON-escaped (both cases of the hex) and in
    UTF-16 (how a PDF's text strings carry it)."""
    escaped = json.dumps(value)[1:-1]
    return {value, escaped, escaped.upper().replace("\\U", "\\u"), value.encode("utf-16-be").hex(),
            value.encode("utf-16-be").hex().upper()}


def raw_text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes) and value.startswith(b"%PDF"):
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(value)).pages)
    if isinstance(value, bytes):
        return " ".join((value.decode("utf-8", "ignore"), value.decode("latin-1"), value.decode("utf-16-be", "ignore")))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False) + json.dumps(value)
    return str(value)


def hits_in_clear(app: Flask, needles: dict[str, str]) -> list[str]:
    """Every ``table.column`` whose raw stored value holds one of ``needles`` (label -> value) in clear."""
    forms = {form: label for label, value in needles.items() for form in clear_forms(value)}
    found = []
    with app.app_context():
        with get_db(app).engine.connect() as connection:
            inspector = inspect(connection)
            for name in inspector.get_table_names():
                columns = [c["name"] for c in inspector.get_columns(name)
                           if isinstance(c["type"], (String, Text, JSON, LargeBinary))
                           or type(c["type"]).__name__ in ("JSONB", "BYTEA")]
                if not columns:
                    continue
                rows = connection.execute(select(*(column(c) for c in columns)).select_from(table(name)))
                for row in rows:
                    for column_name, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        text = raw_text(value)
                        found.extend(f"{name}.{column_name}: {label}" for form, label in forms.items()
                                     if form in text)
    return sorted(set(found))


@pytest.fixture
def path_app(db_url: str) -> Iterator[Flask]:
    yield from app_selling_on(db_url)


def test_after_the_whole_path_no_column_holds_the_applicants_id_phone_or_name_in_clear(path_app: Flask) -> None:
    receiver = Receiver()
    try:
        channel = Channel(path_app.test_client(), new_key(path_app))
        assert channel.post("/api/v1/webhooks", {"url": receiver.url}).status_code == 201
        assert channel.post("/api/v1/products/CONSUMER_INSTALLMENT/quotes",
                            {"amount": "12000.00", "term": 6, "method": "equal_installment"}).status_code == 200
        body = application_body("12000.00", 6, id_no=ID_NUMBER, name=NAME, phone=PHONE,
                                bank_account={"bank_code": "ICBC", "account_number": "6222020200112233445",
                                              "holder_name": NAME})
        applied = channel.post(APPLY, body)
        assert applied.status_code == 201 and applied.get_json()["state"] == "approved", applied.get_json()
        app_url = f"/api/v1/applications/{applied.get_json()['id']}"
        assert channel.post(app_url + "/acceptance").status_code == 200
        contract = channel.get(app_url + "/contract").get_json()
        signed = channel.post(app_url + "/contract/signature", {"signer_name": NAME, "sha256": contract["sha256"]})
        assert signed.status_code == 200, signed.get_json()
        assert channel.post(app_url + "/disbursement").status_code == 202
        (callback,) = settle_and_call_back(path_app)
        assert callback.status_code == 200
        loan_id = channel.get(app_url).get_json()["loan_id"]
        repaid = channel.post(f"/api/v1/loans/{loan_id}/repayments", {"amount": "100.00", "paid_on": "2026-03-02"})
        assert repaid.status_code == 201, repaid.get_json()
        webhooks_sent(path_app)
    finally:
        receiver.close()
    hits = hits_in_clear(path_app, {"id_number": ID_NUMBER, "phone": PHONE, "name": NAME})
    assert hits == [], "\n".join(hits)
