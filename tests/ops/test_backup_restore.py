"""Backup and restore, and the PII key's rotation, followed as docs/operations.md writes them, on PostgreSQL.

A loan is sold through the API (a customer, a contract PDF, signature evidence, a payout account: all
encrypted), the PII key is rotated (new key first, ``loanfactory pii reencrypt`` until it rewrites nothing,
old key dropped), the database is dumped with ``pg_dump`` and restored with ``pg_restore`` into an empty
one. The restored books equal the originals (trial balance, the contract's bytes, the customer's name) under
the key ring of the day of the backup; without that key the personal data cannot be read, which is why the
ring is part of the backup.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.customers.parties import Customer
from core.customers.pii import PiiDecryptionError
from core.origination.booking import ContractRecord
from loanfactory.cli import main
from loanfactory.database import get_db
from tests.api.conftest import Channel, book_loan, new_key, selling
from tests.conftest import fresh_postgres_database

OLD = "k2026:" + base64.b64encode(b"o" * 32).decode()
NEW = "k2027:" + base64.b64encode(b"n" * 32).decode()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _cli(monkeypatch, url: str, *args: str):
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _books(url: str, monkeypatch) -> tuple[object, ...]:
    from loanfactory.app import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True, "PLUGINS_EXTRA": ["plugins.sandbox_bank",
                                                                              "plugins.local_esign"]})
    with app.app_context():
        session = get_db(app).session()
        names = sorted(c.name for c in session.scalars(select(Customer)))
        contracts = [r.content for r in session.scalars(select(ContractRecord))]
    get_db(app).engine.dispose()
    balance = json.loads(_cli(monkeypatch, url, "ledger", "trial-balance", "--json"))
    return names, contracts, balance


@pytest.fixture
def restored_url() -> Iterator[str]:
    yield from fresh_postgres_database()


@pytest.mark.postgres
def test_rotate_the_pii_key_back_up_and_restore_as_documented(postgres_url, restored_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LOANFACTORY_PII_KEY", OLD)
    app = next(selling(postgres_url))
    book_loan(app, Channel(app.test_client(), new_key(app)))
    get_db(app).engine.dispose()
    before = _books(postgres_url, monkeypatch)
    assert before[0] == ["张三"] and before[1] and before[2]["balanced"]

    # rotation: the new key first, re-encrypt until nothing is left on the old one, then drop it
    monkeypatch.setenv("LOANFACTORY_PII_KEY", f"{NEW},{OLD}")
    first = _cli(monkeypatch, postgres_url, "pii", "reencrypt")
    assert "active key: k2027" in first and "customers: 1 row(s)" in first
    again = _cli(monkeypatch, postgres_url, "pii", "reencrypt")
    assert all(line.endswith(": 0 row(s) re-encrypted") for line in again.splitlines()[1:])
    monkeypatch.setenv("LOANFACTORY_PII_KEY", NEW)
    assert _books(postgres_url, monkeypatch) == before

    # backup and restore into an empty database
    dump = tmp_path / "loanfactory.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq(postgres_url)],
                   check=True, env=os.environ)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(restored_url)}", str(dump)],
                   check=True, env=os.environ)
    assert _books(restored_url, monkeypatch) == before
    check = CliRunner().invoke(main, ["db", "check"], env={"DATABASE_URL": restored_url})
    assert check.exit_code == 0, check.output

    # the restored personal data needs the key ring of the backup's day
    monkeypatch.setenv("LOANFACTORY_PII_KEY", OLD)
    with pytest.raises(PiiDecryptionError, match=r"no key 'k2027'"):
        _books(restored_url, monkeypatch)
