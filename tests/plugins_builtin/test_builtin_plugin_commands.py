"""The ``loanfactory reports`` and ``loanfactory sandbox-bank`` commands, on an app with its own database."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from core.db.base import Base, make_engine, make_session_factory
from loanfactory.cli import main
from plugins.sandbox_bank.bank import Account, open_bank
from tests.plugins_builtin.portfolio import seed


@pytest.fixture
def app_database(tmp_path, monkeypatch):
    """The app's database (``DATABASE_URL``), with every table; yields a session factory on it."""
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_reports_generate_writes_the_csv_and_xlsx_of_a_month(app_database, tmp_path):
    with app_database() as session:
        seed(session)
        session.commit()
    result = CliRunner().invoke(main, ["reports", "generate", "monthly_statistics", "--month", "2026-03",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["monthly_statistics_20260301_20260331.csv", "monthly_statistics_20260301_20260331.xlsx"]
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / names[0]).read_text(encoding="utf-8-sig"))))
    assert ["outstanding", "loans", "月末贷款余额", "4", "18000.00", ""] in rows


def test_reports_generate_names_the_option_at_fault(app_database):
    bad_month = CliRunner().invoke(main, ["reports", "generate", "monthly_statistics", "--month", "2026-13"])
    assert bad_month.exit_code == 2 and "--month" in bad_month.output
    unknown = CliRunner().invoke(main, ["reports", "generate", "balance_sheet", "--month", "2026-03"])
    assert unknown.exit_code == 2 and "balance_sheet" in unknown.output


def test_settle_delivers_callbacks_and_keeps_the_refused_ones_then_reconcile_reports_the_difference(
        app_database, tmp_path):
    """A payout nobody booked: the callback endpoint answers 404, so the callback stays in the outbox;
    the day's file holds the payout and the reconciliation finds it missing in our ledger (exit 1)."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    with app_database() as session:
        with open_bank({}, now, session) as bank:
            bank.submit("payout", "LF-DISB-999-1", Decimal("800.00"), Account("ICBC", "6222020200000000009", "王五"))
        session.commit()
    runner = CliRunner()
    settled = runner.invoke(main, ["sandbox-bank", "settle"])
    assert settled.exit_code == 0, settled.output
    assert "settled 1 order(s); 1 callback(s)" in settled.output and "HTTP 404" in settled.output
    with app_database() as session, open_bank({}, now, session) as bank:
        assert len(bank.undelivered_callbacks()) == 1
    statement = tmp_path / "statement.csv"
    assert runner.invoke(main, ["sandbox-bank", "statement", "--date", now.date().isoformat(), "--out",
                                str(statement)]).exit_code == 0
    assert "LF-DISB-999-1,payout,out,800.00" in statement.read_text()
    reconciled = runner.invoke(main, ["sandbox-bank", "reconcile", str(statement), "--out", str(tmp_path / "d.csv")])
    assert reconciled.exit_code == 1
    assert "1 difference(s)" in reconciled.output and "missing_in_ledger" in reconciled.output
    assert "missing_in_ledger,LF-DISB-999-1,-800.00," in (tmp_path / "d.csv").read_text()
