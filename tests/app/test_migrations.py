"""The migrations build exactly the models' schema, guards included, on SQLite and PostgreSQL.

The checks run ``loanfactory db`` in a fresh interpreter: inside the test process other tests register
scratch tables of their own on the shared metadata, which are not the app's schema.
"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import TextClause, select, text
from sqlalchemy import column as sqlalchemy_column
from sqlalchemy import table as table_of

from core.customers.pii import decrypt
from core.db.base import make_engine
from core.loans.contract import Contract
from core.origination.approved import ApprovedOffer, servicing_rules
from core.origination.catalog import Offer
from core.plugins.types import PluginSchema
from core.products.validate import read_document
from loanfactory.migrate import (
    PartialPluginTablesError,
    alembic_config,
    plugin_schemas,
    schema_problems,
    upgrade,
)
from loanfactory.models import load_models, tables_of
from tests.conftest import fresh_postgres_database

T = TypeVar("T")
SAMPLES = Path(__file__).resolve().parents[2] / "product_configs"


def loanfactory_db(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-c", "from loanfactory.cli import main; main()", "db", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_upgrade_head_gives_the_models_schema(db_url):
    before = loanfactory_db(db_url, "check")
    assert before.returncode == 1, "an empty database must differ from the models"
    assert loanfactory_db(db_url, "upgrade").returncode == 0
    after = loanfactory_db(db_url, "check")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "matches" in after.stdout


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


def _as_created(read: Callable[[str], T]) -> T:
    """``read`` of a fresh PostgreSQL database whose tables ``create_all`` made (the models' path, beside the
    migrations' one)."""
    for url in fresh_postgres_database():  # one database, dropped when the loop ends
        made = make_engine(url)
        load_models().create_all(made)
        made.dispose()
        found = read(url)
    return found


def _function_text(query: TextClause) -> Callable[[str], str]:
    """A reader of the one value ``query`` gives on a database's URL."""
    def read(url: str) -> str:
        engine = make_engine(url)
        with engine.connect() as conn:
            value: str = conn.execute(query).scalar_one()
        engine.dispose()
        return value
    return read


@pytest.mark.postgres
def test_upgrading_a_released_database_installs_the_current_balance_check(postgres_url):
    """0001's databases got the balance function of their day; 0002 replaces it with today's."""
    definition = text("SELECT pg_get_functiondef('ledger_check_entry_balanced'::regproc)")
    upgrade(postgres_url, "0001")
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE OR REPLACE FUNCTION ledger_check_entry_balanced() RETURNS trigger "
                             "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    upgrade(postgres_url)
    engine.dispose()
    migrated = _function_text(definition)(postgres_url)
    assert _as_created(_function_text(definition)) == migrated


def _fillfactors(url: str) -> dict[str, list[str] | None]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = dict(conn.execute(text("SELECT relname, reloptions FROM pg_class WHERE relname IN "
                                       "('loan_balances', 'loan_installments', 'loans')")).all())
    engine.dispose()
    return found


@pytest.mark.postgres
def test_migrated_and_created_databases_leave_the_same_room_in_daily_rewritten_pages(postgres_url):
    upgrade(postgres_url)
    migrated = _fillfactors(postgres_url)
    assert migrated == {"loan_balances": ["fillfactor=50"], "loan_installments": ["fillfactor=70"], "loans": None}
    assert _as_created(_fillfactors) == migrated


def _key_collation(url: str) -> str | None:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT collation_name FROM information_schema.columns "
                                  "WHERE table_name = 'ledger_entries' AND column_name = 'idempotency_key'"))
        collation = found.scalar_one()
    engine.dispose()
    return collation


@pytest.mark.postgres
def test_migrated_and_created_databases_compare_journal_keys_byte_by_byte(postgres_url):
    """Revision 0005: the key's unique index compares bytes ("C"), whatever the database's collation."""
    upgrade(postgres_url, "0004")
    assert _key_collation(postgres_url) is None  # the database's default before it
    upgrade(postgres_url)
    assert _key_collation(postgres_url) == "C"
    assert _as_created(_key_collation) == "C"


def test_upgrading_copies_each_loans_rounding_mode_from_its_terms(db_url):
    """Revision 0006 fills ``loans.rounding`` from the terms of the loans booked before it."""
    upgrade(db_url, "0005")
    engine = make_engine(db_url)
    terms = {"down": '{"schedule": {"periods": 12, "rounding": "down"}}', None: '{"schedule": {"periods": 12}}'}
    with engine.begin() as conn:
        customer = conn.execute(text(
            "INSERT INTO customers (name, id_number, id_number_index, phone, phone_index, created_at) "
            "VALUES ('x', 'x', 'i1', 'x', 'p1', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        for number, document in enumerate(terms.values(), start=1):
            conn.execute(text(
                "INSERT INTO loans (id, customer_id, product_code, product_version_id, terms, currency, principal, "
                "annual_rate, method, state, disbursed_on, maturity_date, days_past_due, bucket, five_tier, "
                "created_at) VALUES (:id, :customer, 'cash', 1, :terms, 'CNY', 1000, 0.1, 'bullet', 'active', "
                ":day, :day, 0, 'M0', 'normal', CURRENT_TIMESTAMP)"),
                {"id": number, "customer": customer, "terms": document, "day": date(2026, 1, 1)})
    upgrade(db_url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT rounding FROM loans ORDER BY id")).scalars().all()
    engine.dispose()
    assert found == list(terms)


def test_upgrading_writes_each_loans_prepayment_window_into_its_contract(db_url):
    """Revision 0011 copies ``prepayment.earliest_period`` of the product version into the contract of each
    loan booked before it: counted in installments, or in the product's term unit for a bullet loan; a
    document without it gives 1 (no window)."""
    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    documents = {1: '{"term": {"unit": "month"}, "prepayment": {"allowed": true, "earliest_period": 3}}',
                 2: '{"term": {"unit": "day"}, "prepayment": {"allowed": true, "earliest_period": 7}}',
                 3: '{"term": {"unit": "month"}, "prepayment": {"allowed": true}}'}
    loans = [(1, 1, "equal_installment"), (2, 2, "bullet"), (3, 3, "equal_principal")]
    with engine.begin() as conn:
        for version, document in documents.items():
            conn.execute(text(
                "INSERT INTO product_versions (id, code, version, status, document, created_by, created_at) "
                "VALUES (:id, :code, 1, 'draft', :document, 'pm', CURRENT_TIMESTAMP)"),
                {"id": version, "code": f"P{version}", "document": document})
        customer = conn.execute(text(
            "INSERT INTO customers (name, id_number, id_number_index, phone, phone_index, created_at) "
            "VALUES ('x', 'x', 'i1', 'x', 'p1', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        for number, version, method in loans:
            conn.execute(text(
                "INSERT INTO loans (id, customer_id, product_code, product_version_id, terms, currency, principal, "
                "annual_rate, method, state, disbursed_on, maturity_date, days_past_due, bucket, five_tier, "
                "created_at) VALUES (:id, :customer, 'cash', :version, :terms, 'CNY', 1000, 0.1, :method, "
                "'active', :day, :day, 0, 'M0', 'normal', CURRENT_TIMESTAMP)"),
                {"id": number, "customer": customer, "version": version, "method": method, "day": date(2026, 1, 1),
                 "terms": '{"schedule": {"periods": 12}, "prepayment": {"allowed": true, "fee_rate": "0.01"}}'})
    upgrade(db_url)
    with engine.connect() as conn:
        found = [json.loads(terms) if isinstance(terms, str) else terms
                 for terms in conn.execute(text("SELECT terms FROM loans ORDER BY id")).scalars()]
    engine.dispose()
    assert [(t["prepayment"]["earliest_period"], t["prepayment"]["earliest_unit"]) for t in found] == [
        (3, "installment"), (7, "day"), (1, "installment")]
    # 0027 itemises the old fee rate (on the principal prepaid) as one fee and adds the (empty) late fees
    legacy = [{"code": "prepayment", "name": "提前还款手续费", "basis": "percent_of_outstanding", "value": "0.01"}]
    assert all(t["prepayment"]["fees"] == legacy and "fee_rate" not in t["prepayment"] and t["late_fees"] == []
               and t["schedule"] == {"periods": 12} for t in found)


def _triggers(url: str, where: str) -> list[tuple[str, str, str]]:
    """The table, name and definition of the triggers ``where`` (an SQL condition on ``pg_trigger``)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            f"WHERE NOT tgisinternal AND {where} ORDER BY 1, 2")).all()
    engine.dispose()
    return [tuple(row) for row in found]


def _journal_triggers(url: str) -> list[tuple[str, str, str]]:
    return _triggers(url, "tgrelid::regclass::text LIKE 'ledger%'")


@pytest.mark.postgres
def test_migrated_and_created_databases_check_the_journal_with_the_same_triggers(postgres_url):
    """Revision 0007: one noted row per inserting statement, checked at commit (no row trigger on postings);
    revision 0017: a statement trigger refusing entries dated in a closed period."""
    upgrade(postgres_url)
    migrated = _journal_triggers(postgres_url)
    assert [(table, name) for table, name, _ in migrated] == [
        ("ledger_entries", "ledger_entries_immutable"),
        ("ledger_entries", "ledger_entries_outside_closed_periods"),
        ("ledger_posting_checks", "ledger_posting_checks_balanced"),
        ("ledger_postings", "ledger_postings_immutable"),
        ("ledger_postings", "ledger_postings_noted"),
    ]
    assert _as_created(_journal_triggers) == migrated


def _notifying_triggers(url: str) -> list[tuple[str, str, str]]:
    return _triggers(url, "tgname LIKE '%notify%'")


@pytest.mark.postgres
def test_migrated_and_created_databases_notify_the_key_caches_of_the_same_changes(postgres_url):
    """Revision 0009: a statement trigger on the keys and on the product versions; downgrading drops both."""
    upgrade(postgres_url)
    migrated = _notifying_triggers(postgres_url)
    assert [(table, name) for table, name, _ in migrated] == [
        ("api_clients", "api_clients_notify_api_auth"),
        ("product_versions", "product_versions_notify_api_auth"),
    ]
    assert all("AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE" in definition and "FOR EACH STATEMENT" in definition
               for _, _, definition in migrated)
    assert _as_created(_notifying_triggers) == migrated
    command.downgrade(alembic_config(postgres_url), "0008")
    assert _notifying_triggers(postgres_url) == []


def test_upgrading_moves_each_approved_applications_offer_from_its_decision_to_a_column(db_url):
    """Revision 0012 builds ``applications.offer`` from the decision's loose keys and the product version, as
    the pipeline built the offer, and takes the keys out of the decision; downgrading puts them back."""
    upgrade(db_url, "0011")
    document = read_document(SAMPLES / "consumer_installment.json")
    offered = {"approved_amount": "12000.00", "annual_rate": "0.1100", "apr": "0.151234", "term": 6,
               "method": "equal_installment", "first_installment": "2088.65", "total_payable": "12531.90",
               "offer_expires_at": "2026-01-17T10:00:00+00:00", "accepted_at": "2026-01-11T09:30:00+00:00",
               "accepted_by": "channel:partner-app"}
    kept = {"outcome": "approved", "reasons": [], "context": {"dti": "0.15"}, "errors": []}
    rejected = {"outcome": "rejected", "reasons": ["DTI_TOO_HIGH"]}
    engine = make_engine(db_url)
    tables = sa.MetaData()
    versions = sa.Table("product_versions", tables, autoload_with=engine)
    applications = sa.Table("applications", tables, autoload_with=engine)
    with engine.begin() as conn:
        customer = conn.execute(text(
            "INSERT INTO customers (name, id_number, id_number_index, phone, phone_index, created_at) "
            "VALUES ('x', 'x', 'i1', 'x', 'p1', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        conn.execute(versions.insert(), {"id": 1, "code": document["code"], "version": 1, "status": "draft",
                                         "document": document, "created_by": "maker",
                                         "created_at": datetime(2026, 1, 1, tzinfo=UTC)})
        for number, decision in ((1, {**kept, **offered}), (2, rejected)):
            conn.execute(applications.insert(), {
                "id": number, "customer_id": customer, "channel": "partner-app", "product_code": document["code"],
                "product_version_id": 1, "amount": "12000.00", "term": 6, "method": "equal_installment",
                "state": "contract_signed" if number == 1 else "rejected", "decision": decision,
                "created_at": datetime(2026, 1, 10, tzinfo=UTC)})
    upgrade(db_url)
    read = sa.select(sa.column("id"), sa.column("decision", sa.JSON), sa.column("offer", sa.JSON)).select_from(
        sa.table("applications")).order_by(sa.column("id"))
    with engine.connect() as conn:
        (_, decision, stored), (_, still_rejected, none) = conn.execute(read).all()
    assert (decision, still_rejected, none) == (kept, rejected, None)
    offer = ApprovedOffer.from_json(stored)
    assert offer.decision_fields() == offered
    product = Offer.of(1, document)
    assert offer.contract == Contract(product.product.loan_terms(Decimal("12000.00"), 6, "equal_installment",
                                                                 date(2026, 1, 10), Decimal("0.1100")),
                                      servicing_rules(product, "equal_installment"))
    command.downgrade(alembic_config(db_url), "0011")
    with engine.connect() as conn:
        restored = conn.execute(sa.select(sa.column("decision", sa.JSON)).select_from(sa.table("applications"))
                                .order_by(sa.column("id"))).scalars().all()
    engine.dispose()
    assert restored == [{**kept, **offered}, rejected]


BUILT_IN_TABLES = {"sandbox_bank": "sandbox_bank_cards", "sandbox_bureau": "sandbox_bureau_queries",
                   "notifications": "sandbox_notification_outbox", "local_esign": "esign_documents"}


#: the built-in plugins' columns added by their later revisions (sandbox_bank_0003: batch debits)
ADDED_AFTER_THE_BRANCHES = {"sandbox_bank_orders": ("allow_partial", "collected", "batch_id")}


def _as_released_before_plugin_branches(url: str) -> None:
    """A database of the release whose core 0001 still created the built-in plugins' tables: the core at
    0009 (alembic_version holds it alone) and those tables as 0001 made them, with a card in the bank."""
    upgrade(url, "0009")
    schemas = {name: schema for name, schema in plugin_schemas().items() if name in BUILT_IN_TABLES}
    metadata = load_models(schemas.values())
    engine = make_engine(url)
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[metadata.tables[t] for t in sorted(tables_of(
            module for schema in schemas.values() for module in schema.models))])
        for table, columns in ADDED_AFTER_THE_BRANCHES.items():  # today's models have them; 0001's tables had not
            for column in columns:
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("INSERT INTO sandbox_bank_cards (card_number, holder_name, status) "
                          "VALUES ('6222020200000000001', '张三', 'active')"))
    engine.dispose()


def test_upgrading_a_database_made_before_the_plugins_had_branches_adopts_their_tables(db_url):
    _as_released_before_plugin_branches(db_url)
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        cards = conn.execute(text("SELECT holder_name FROM sandbox_bank_cards")).scalars().all()
    engine.dispose()
    assert all(any(version.startswith(f"{name}_") for version in versions) for name in BUILT_IN_TABLES)
    # the card's holder was adopted in clear, then encrypted by sandbox_bank_0002
    assert [decrypt(card, "sandbox_bank_cards.holder_name") for card in cards] == ["张三"]
    checked = loanfactory_db(db_url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_plugins_first_revision_refuses_when_only_some_of_its_tables_are_there(tmp_path):
    url = f"sqlite:///{tmp_path}/partial.sqlite3"
    _as_released_before_plugin_branches(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE sandbox_bank_faults"))
    engine.dispose()
    with pytest.raises(PartialPluginTablesError, match="lacks only sandbox_bank_faults"):
        upgrade(url, "sandbox_bank@head")


def test_a_plugin_schema_without_its_branch_is_reported(tmp_path):
    schema = PluginSchema(models=("plugins.sandbox_bank.models",), migrations=tmp_path / "nowhere")
    assert schema_problems("sandbox_bank", schema, f"sqlite:///{tmp_path}/s.sqlite3") == [
        f"no directory of revisions at {tmp_path / 'nowhere'}"]
    unlabelled = tmp_path / "unlabelled"
    unlabelled.mkdir()
    (unlabelled / "x_0001.py").write_text('revision = "x_0001"\ndown_revision = None\nbranch_labels = None\n'
                                          'depends_on = None\n\ndef upgrade():\n    pass\n', encoding="utf-8")
    found = schema_problems("x", PluginSchema(models=("plugins.sandbox_bank.models",), migrations=unlabelled),
                            f"sqlite:///{tmp_path}/u.sqlite3")
    assert found == [f"the revisions in {unlabelled} are not one branch labelled 'x'"]


ON = date(2026, 1, 1)
#: what the rows below hang on
PARENT_ROWS: tuple[tuple[str, dict[str, object]], ...] = (
    ("customers", {"id": 1, "name": "x", "id_number": "x", "id_number_index": "i", "phone": "x", "phone_index": "p",
                   "created_at": ON}),
    ("applications", {"id": 1, "customer_id": 1, "channel": "c", "product_code": "p", "product_version_id": 1,
                      "amount": 1000, "term": 6, "method": "bullet", "state": "approved", "created_at": ON}),
    ("api_clients", {"id": 1, "channel": "c", "name": "c", "key_prefix": "k", "key_hash": "h", "scopes": "[]",
                     "rate_limit": "", "webhook_secret": "s", "active": True, "created_at": ON}),
)
#: the revisions before those that encrypt
BEFORE_ENCRYPTION = ("0012", "local_esign@local_esign_0001", "sandbox_bank@sandbox_bank_0001")
#: rows a database holds in clear before them, each with the column they encrypt and its clear value
CLEAR_ROWS: tuple[tuple[str, dict[str, object], str, object], ...] = (
    ("application_contracts", {"application_id": 1, "contract_id": "LF-1", "media_type": "application/pdf",
                               "sha256": "0" * 64, "content": "%PDF 欧阳娜娜".encode(), "terms": "{}",
                               "signatures": '[{"signer": {"name": "欧阳娜娜"}}]', "created_at": ON},
     "content", "%PDF 欧阳娜娜".encode()),
    ("application_contracts", {}, "signatures", [{"signer": {"name": "欧阳娜娜"}}]),
    ("esign_documents", {"id": 1, "contract_id": "LF-1", "media_type": "application/pdf", "sha256": "0" * 64,
                         "content": b"%PDF \xe6\xac\xa7", "created_at": ON}, "content", b"%PDF \xe6\xac\xa7"),
    ("esign_signatures", {"id": 1, "contract_id": "LF-1", "role": "borrower", "signer_name": "欧阳娜娜",
                          "signer_identifier": "k", "signer_index": "i", "signed_at": "t", "sha256": "0" * 64,
                          "channel": "api", "algorithm": "Ed25519", "signature": "s", "public_key": "p",
                          "key_fingerprint": "f"}, "signer_name", "欧阳娜娜"),
    ("idempotency_records", {"id": 1, "client_id": 1, "key": "k", "fingerprint": "f", "status_code": 201,
                             "response_body": '{"name": "欧阳娜娜"}', "created_at": ON}, "response_body",
     '{"name": "欧阳娜娜"}'),
    ("sandbox_bank_cards", {"card_number": "6222", "holder_name": "欧阳娜娜", "status": "active"}, "holder_name",
     "欧阳娜娜"),
)


def test_upgrading_encrypts_contracts_signatures_and_stored_responses_and_downgrading_decrypts(db_url):
    """Revisions 0013, local_esign_0002 and sandbox_bank_0002: the values written in clear before them are
    encrypted in place, and read back the same; downgrading decrypts them."""
    for before in BEFORE_ENCRYPTION:
        upgrade(db_url, before)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for name, row in [*PARENT_ROWS, *((name, row) for name, row, _column, _value in CLEAR_ROWS)]:
            if row:
                conn.execute(text(f"INSERT INTO {name} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"),
                             row)
    engine.dispose()

    def stored() -> tuple[list[object], list[object]]:
        """Each column's raw value and its value through the model's type."""
        engine = make_engine(db_url)
        models = load_models()
        raw, read = [], []
        with engine.connect() as conn:
            for name, _row, column, _value in CLEAR_ROWS:
                raw.append(conn.execute(select(table_of(name, sqlalchemy_column(column)).c[column])).scalar_one())
                read.append(conn.execute(select(models.tables[name].c[column])).scalar_one())
        engine.dispose()
        return raw, read

    upgrade(db_url)
    raw, read = stored()
    assert read == [value for *_rest, value in CLEAR_ROWS]
    assert not any("欧阳" in (bytes(v).decode("utf-8", "ignore") if isinstance(v, (bytes, memoryview)) else str(v))
                   or b"\xe6\xac\xa7" in (bytes(v) if isinstance(v, (bytes, memoryview)) else b"") for v in raw)
    for before in BEFORE_ENCRYPTION:
        command.downgrade(alembic_config(db_url), before)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT signer_name FROM esign_signatures")).scalar_one() == "欧阳娜娜"
        assert "欧阳娜娜" in str(conn.execute(text("SELECT signatures FROM application_contracts")).scalar_one())
    engine.dispose()


def test_the_operations_revisions_go_down_and_up_again_keeping_the_payout_dates(db_url):
    """0014 (``eod_runs``) and 0015 (the payout's value and booked dates) downgrade to 0013 and upgrade again."""
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "0013")
    engine = make_engine(db_url)
    assert "eod_runs" not in sa.inspect(engine).get_table_names()
    assert "value_date" not in {c["name"] for c in sa.inspect(engine).get_columns("disbursement_orders")}
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    assert "eod_runs" in sa.inspect(engine).get_table_names()
    assert {"value_date", "booked_on"} <= {c["name"] for c in sa.inspect(engine).get_columns("disbursement_orders")}
    engine.dispose()


def test_upgrading_moves_each_accepted_offer_to_the_accepted_state(db_url):
    """Revision 0029: an application left ``approved`` with an accepted offer becomes ``accepted``, with the
    move recorded at the acceptance's time; an offer not accepted stays ``approved``. Downgrading moves back."""
    upgrade(db_url, "0013")
    engine = make_engine(db_url)
    applications = sa.Table("applications", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        customer = conn.execute(text(
            "INSERT INTO customers (name, id_number, id_number_index, phone, phone_index, created_at) "
            "VALUES ('x', 'x', 'i1', 'x', 'p1', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        for number, accepted_at in ((1, "2026-01-11T09:30:00+08:00"), (2, None)):
            conn.execute(applications.insert(), {
                "id": number, "customer_id": customer, "channel": "partner-app", "product_code": "X",
                "product_version_id": 1, "amount": "12000.00", "term": 6, "method": "equal_installment",
                "state": "approved", "offer": {"accepted_at": accepted_at, "accepted_by": "channel:p"},
                "created_at": datetime(2026, 1, 10, tzinfo=UTC)})
    upgrade(db_url)
    states = sa.select(sa.column("state")).select_from(sa.table("applications")).order_by(sa.column("id"))
    moves = sa.select(sa.column("entity_id"), sa.column("from_state"), sa.column("to_state"),
                      sa.column("at", sa.DateTime(timezone=True))).select_from(sa.table("state_transitions"))
    with engine.connect() as conn:
        assert conn.execute(states).scalars().all() == ["accepted", "approved"]
        ((entity, before, after, at),) = conn.execute(moves).all()
    assert (entity, before, after) == (1, "approved", "accepted")
    assert at.replace(tzinfo=at.tzinfo or UTC) == datetime(2026, 1, 11, 1, 30, tzinfo=UTC)
    command.downgrade(alembic_config(db_url), "0028")
    with engine.connect() as conn:
        assert conn.execute(states).scalars().all() == ["approved", "approved"]
        assert conn.execute(moves).all() == []
    engine.dispose()
