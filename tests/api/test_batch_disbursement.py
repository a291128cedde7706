"""Batch disbursement: signed loans paid out in one bank file, the bank's results applied line by line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from core.applications.models import Application
from core.ledger import loan_balances, trial_balance
from core.loans.models import Loan
from core.origination.batches import RESULT_COLUMNS, apply_results, build_batch
from core.origination.booking import DisbursementOrder
from loanfactory.database import get_db
from tests.api.conftest import (
    APPLY,
    PAYOUT_DAY,
    SHANGHAI,
    Channel,
    application_body,
    id_number,
    new_key,
    selling,
)

TODAY = PAYOUT_DAY.date()


@pytest.fixture
def bank_app(db_url: str) -> Iterator[Flask]:
    yield from selling(db_url)


def signed(channel: Channel, amount: str, sequence: int, *, sign: bool = True) -> int:
    body = application_body(amount, 6, id_no=id_number("19900101", sequence))
    application = channel.post(APPLY, body).get_json()
    assert application["state"] == "approved", application
    url = f"/api/v1/applications/{application['id']}"
    channel.post(url + "/acceptance")
    if sign:
        contract = channel.get(url + "/contract").get_json()
        channel.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    return int(application["id"])


def result_file(rows: list[tuple[object, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_one_bank_file_pays_out_many_loans_and_each_line_gets_its_result(bank_app: Flask) -> None:
    channel = Channel(bank_app.test_client(), new_key(bank_app))
    ids = [signed(channel, amount, n) for n, amount in ((2, "5000.00"), (3, "8000.00"), (4, "3000.00"))]
    unsigned = signed(channel, "2000.00", 6, sign=False)
    with bank_app.app_context():
        session = get_db(bank_app).session()
        built = build_batch(session, [*ids, unsigned, 999999], channel="icbc_file", actor="finance:zhao",
                            now=PAYOUT_DAY)
        session.commit()
        assert [(r.outcome, r.application_id) for r in built.results] == [
            ("included", ids[0]), ("included", ids[1]), ("included", ids[2]), ("refused", unsigned),
            ("refused", 999999)]
        assert "accepted, not signed" in built.results[3].detail
        rows = list(csv.reader(io.StringIO(built.content.decode())))
        assert rows[0] == ["line", "request_id", "bank_code", "account_number", "holder_name", "amount", "memo"]
        assert [(r[0], r[5]) for r in rows[1:]] == [("1", "5000.00"), ("2", "8000.00"), ("3", "3000.00")]
        assert (built.batch.lines, built.batch.total) == (3, Decimal("16000.00"))
        assert {session.get(Application, i).state for i in ids} == {"disbursing"}
        batch_id = built.batch.id
        request_ids = [r[1] for r in rows[1:]]

    settled = datetime(2026, 3, 2, 15, 30, tzinfo=SHANGHAI).isoformat()
    answer = result_file([
        (1, request_ids[0], "succeeded", "5000.00", settled, "ICBC-1", "", ""),
        (2, request_ids[1], "failed", "8000.00", "", "", "ACCOUNT_CLOSED", "the account is closed"),
        (3, request_ids[2], "succeeded", "300.00", settled, "ICBC-3", "", ""),
        (4, "LF-BATCH-77-1", "succeeded", "1.00", settled, "", "", "")])
    with bank_app.app_context():
        session = get_db(bank_app).session()
        results = apply_results(session, batch_id, answer, actor="finance:zhao", today=TODAY)
        session.commit()
        assert [(r.line, r.outcome) for r in results] == [(1, "booked"), (2, "failed"), (3, "mismatch"),
                                                           (4, "unknown")]
        assert "ACCOUNT_CLOSED" in results[1].detail and "amount" in results[2].detail
        loan = session.get(Loan, results[0].loan_id)
        assert (loan.principal, loan.disbursed_on, loan.application_id) == (Decimal("5000.00"), TODAY, ids[0])
        assert [session.get(Application, i).state for i in ids] == ["disbursed", "disbursement_failed",
                                                                     "disbursing"]
        third = session.scalars(select(DisbursementOrder).where(DisbursementOrder.request_id == request_ids[2])).one()
        assert third.status == "pending" and third.failure.startswith("amount_mismatch")
        assert trial_balance(session).difference == 0
        assert loan_balances(session, loan.id).as_dict()["principal"] == Decimal("5000.00")
        again = apply_results(session, batch_id, answer, actor="finance:zhao", today=TODAY)
        assert [r.outcome for r in again[:2]] == ["unchanged", "unchanged"]
        assert session.scalar(select(Loan.id).where(Loan.application_id == ids[1])) is None


def test_the_batch_command_writes_a_private_file_and_reports_each_application(tmp_path, monkeypatch) -> None:
    import json
    import stat

    from click.testing import CliRunner

    from loanfactory.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/batch.sqlite3")
    out = tmp_path / "payouts.csv"
    result = CliRunner().invoke(main, ["disbursements", "batch", "--application", "7", "--channel", "icbc_file",
                                       "--out", str(out), "--actor", "finance:zhao", "--json"])
    assert result.exit_code == 0, result.output
    assert [(r["outcome"], r["application_id"]) for r in json.loads(result.output)] == [("refused", 7)]
    assert out.read_text().splitlines() == ["line,request_id,bank_code,account_number,holder_name,amount,memo"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    bad = CliRunner().invoke(main, ["disbursements", "batch", "--application", "7", "--channel", "ICBC FILE",
                                    "--out", str(out), "--actor", "finance:zhao"])
    assert bad.exit_code != 0 and "channel" in bad.output
