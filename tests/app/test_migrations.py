"""The migrations build exactly the models' schema, guards included, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.db import make_engine
from loanfactory.cli import main
from loanfactory.migrate import pending_changes, upgrade


def test_upgrade_head_gives_the_models_schema(db_url):
    upgrade(db_url)
    assert pending_changes(db_url) == []


def test_db_check_command_reports_a_fresh_database_as_different(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "check"]).exit_code == 1
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, ["db", "check"])
    assert result.exit_code == 0, result.output
    assert "matches" in result.output


@pytest.mark.postgres
def test_migrated_postgresql_refuses_an_unbalanced_entry_at_commit(postgres_url):
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with pytest.raises(Exception, match="balance"), engine.begin() as conn:
        entry = conn.execute(
            text("INSERT INTO ledger_entries (idempotency_key, event, business_date, fingerprint, created_at) "
                 "VALUES ('k1', 'test', :d, 'f', now()) RETURNING id"), {"d": date(2026, 1, 1)}).scalar_one()
        conn.execute(text("INSERT INTO ledger_postings (entry_id, account, debit, credit) VALUES (:e, 'a', :x, 0)"),
                     {"e": entry, "x": Decimal("1.00")})
    engine.dispose()
