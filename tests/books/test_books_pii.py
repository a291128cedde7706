"""Personal data at rest: AES-GCM with key ids, blind indexes, masks."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from books.factories import ID_NUMBER, add_customer
from core.customers.parties import Customer, find_by_id_number, find_by_phone
from core.customers.pii import (
    BLIND_INDEX_KEY_ENV,
    PII_KEY_ENV,
    EncryptedString,
    PiiDecryptionError,
    PiiKeyError,
    blind_index,
    decrypt,
    encrypt,
    key_ring,
    mask_id_number,
    mask_name,
    mask_phone,
    reencrypt_all,
    reencrypt_table,
)

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(32, 64))).decode()


def test_round_trip_returns_the_plaintext_and_names_the_key_id(monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, f"k2024:{KEY_A}")
    stored = encrypt("张三", "customers.name")
    assert stored.startswith("k2024:")
    assert "张三" not in stored
    assert decrypt(stored, "customers.name") == "张三"


def test_each_write_uses_a_fresh_nonce():
    assert encrypt(ID_NUMBER, "customers.id_number") != encrypt(ID_NUMBER, "customers.id_number")


def test_unset_key_uses_the_labelled_development_key(monkeypatch):
    monkeypatch.delenv(PII_KEY_ENV, raising=False)
    assert key_ring().active == "dev"
    assert encrypt("x", "t.c").startswith("dev:")


def test_a_tampered_value_is_refused_naming_the_column():
    stored = encrypt(ID_NUMBER, "customers.id_number")
    kid, body = stored.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(PiiDecryptionError) as info:
        decrypt(f"{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode()}", "customers.id_number")
    assert info.value.field == "customers.id_number"


def test_a_value_moved_to_another_column_does_not_decrypt():
    stored = encrypt("13812345678", "customers.phone")
    with pytest.raises(PiiDecryptionError):
        decrypt(stored, "customers.id_number")


def test_a_wrong_key_under_the_same_id_is_refused(monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, f"main:{KEY_A}")
    stored = encrypt("张三", "customers.name")
    monkeypatch.setenv(PII_KEY_ENV, f"main:{KEY_B}")
    with pytest.raises(PiiDecryptionError):
        decrypt(stored, "customers.name")


def test_an_unknown_key_id_is_refused(monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    stored = encrypt("张三", "customers.name")
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B}")
    with pytest.raises(PiiDecryptionError, match="no key 'old'"):
        decrypt(stored, "customers.name")


def test_rotation_writes_with_the_first_key_and_reads_with_any(monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    old = encrypt("张三", "customers.name")
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B},old:{KEY_A}")
    assert encrypt("张三", "customers.name").startswith("new:")
    assert decrypt(old, "customers.name") == "张三"


@pytest.mark.parametrize("spec", ["k1:not base64!", f"k1:{base64.b64encode(b'short').decode()}", f"a-b:{KEY_A}"])
def test_a_malformed_key_ring_is_refused_naming_the_variable(monkeypatch, spec):
    monkeypatch.setenv(PII_KEY_ENV, spec)
    with pytest.raises(PiiKeyError) as info:
        encrypt("x", "t.c")
    assert info.value.field == PII_KEY_ENV


def test_blind_index_is_stable_keyed_and_separated_by_purpose(monkeypatch):
    first = blind_index(ID_NUMBER, "customers.id_number")
    assert first == blind_index(ID_NUMBER, "customers.id_number")
    assert first != blind_index(ID_NUMBER, "customers.phone")
    assert len(first) == 64
    monkeypatch.setenv(BLIND_INDEX_KEY_ENV, KEY_A)
    assert blind_index(ID_NUMBER, "customers.id_number") != first


@pytest.mark.parametrize(("value", "masked"), [
    ("110105194912310021", "110***********0021"),
    ("11010519491231002X", "110***********002X"),
])
def test_mask_id_number_keeps_three_and_four(value, masked):
    assert mask_id_number(value) == masked


def test_mask_phone_and_name():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "张*"


def test_customer_pii_is_ciphertext_in_the_table_and_found_by_blind_index(db_session):
    customer = add_customer(db_session)
    db_session.commit()
    raw = db_session.execute(text("SELECT name, id_number, phone FROM customers")).one()
    assert "张三" not in raw.name and ID_NUMBER not in raw.id_number and "13812345678" not in raw.phone
    db_session.expire_all()
    found = find_by_id_number(db_session, ID_NUMBER.lower())
    assert found is not None and found.id == customer.id
    assert found.name == "张三" and found.id_number == ID_NUMBER
    assert [c.id for c in find_by_phone(db_session, "+86 138 1234 5678")] == [customer.id]
    assert find_by_id_number(db_session, "440304198506123017") is None


def test_rotation_reencrypts_customers_still_on_the_old_key(db_session, monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    customer = add_customer(db_session)
    db_session.commit()
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B},old:{KEY_A}")
    assert reencrypt_table(db_session, Customer.__table__, batch=1) == 1
    db_session.commit()
    raw = db_session.execute(text("SELECT name, id_number, phone FROM customers")).one()
    assert all(value.startswith("new:") for value in raw)
    assert reencrypt_table(db_session, Customer.__table__) == 0
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B}")
    db_session.expire_all()
    assert db_session.get(type(customer), customer.id).id_number == ID_NUMBER


def test_rotation_covers_every_encrypted_column_of_every_table(monkeypatch, tmp_path):
    """A table keyed on two columns, with a nullable encrypted column, beside the app's own tables."""
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from core.db.base import make_engine
    from loanfactory.models import load_models

    assert {"customers", "payout_accounts", "esign_signer_keys", "esign_signatures"} <= {
        table.name for table in load_models().sorted_tables if any(
            isinstance(column.type, EncryptedString) for column in table.columns)}
    metadata = MetaData()
    notes = Table("notes", metadata, Column("a", Integer, primary_key=True), Column("b", String(4), primary_key=True),
                  Column("body", EncryptedString("notes.body")), Column("extra", EncryptedString("notes.extra")),
                  Column("plain", String(8)))
    engine = make_engine(f"sqlite:///{tmp_path}/notes.sqlite3")
    metadata.create_all(engine)
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    with engine.begin() as conn:
        conn.execute(notes.insert(), [{"a": 1, "b": "x", "body": "一", "extra": None, "plain": "p"},
                                      {"a": 1, "b": "y", "body": "二", "extra": "三", "plain": "q"}])
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B},old:{KEY_A}")
    with Session(engine) as session:
        assert reencrypt_all(session, metadata, batch=1) == {"notes": 2}
        session.commit()
        assert reencrypt_all(session, metadata) == {"notes": 0}
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT body, extra, plain FROM notes ORDER BY b")).all()
    assert [r.body[:4] for r in raw] == ["new:", "new:"] and raw[0].extra is None and raw[1].extra.startswith("new:")
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B}")
    with engine.connect() as conn:
        assert conn.execute(notes.select().order_by(notes.c.b)).all() == [(1, "x", "一", None, "p"),
                                                                         (1, "y", "二", "三", "q")]
    engine.dispose()


def test_loanfactory_pii_reencrypt_rewrites_the_old_keys_values(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from loanfactory.app import create_app
    from loanfactory.cli import main
    from loanfactory.database import db_session

    url = f"sqlite:///{tmp_path}/rotate.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    with create_app().app_context():
        add_customer(db_session())
        db_session().commit()
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B},old:{KEY_A}")
    result = CliRunner().invoke(main, ["pii", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "active key: new" in result.output and "customers: 1 row(s)" in result.output
    assert "payout_accounts: 0 row(s)" in result.output and "esign_signatures: 0 row(s)" in result.output
    with create_app().app_context():
        raw = db_session().execute(text("SELECT name, id_number, phone FROM customers")).one()
    assert all(value.startswith("new:") for value in raw)


def test_rotation_rewrites_encrypted_documents_and_json_too(monkeypatch, db_url):
    """A contract's PDF (``EncryptedBytes``) and signature evidence (``EncryptedJSON``) move to the new key."""
    from sqlalchemy import Column, Integer, MetaData, Table

    from core.customers.pii import EncryptedBytes, EncryptedJSON
    from core.db.base import make_engine

    metadata = MetaData()
    papers = Table("rotation_papers", metadata, Column("id", Integer, primary_key=True),
                   Column("pdf", EncryptedBytes("rotation_papers.pdf")),
                   Column("evidence", EncryptedJSON("rotation_papers.evidence")))
    engine = make_engine(db_url)
    metadata.create_all(engine)
    monkeypatch.setenv(PII_KEY_ENV, f"old:{KEY_A}")
    with engine.begin() as conn:
        conn.execute(papers.insert(), [{"id": 1, "pdf": "%PDF 张三".encode(), "evidence": [{"name": "张三"}]},
                                       {"id": 2, "pdf": None, "evidence": None}])
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B},old:{KEY_A}")
    with Session(engine) as session:
        assert reencrypt_all(session, metadata) == {"rotation_papers": 1}
        session.commit()
        assert reencrypt_all(session, metadata) == {"rotation_papers": 0}
    monkeypatch.setenv(PII_KEY_ENV, f"new:{KEY_B}")
    with engine.connect() as conn:
        assert conn.execute(papers.select().order_by(papers.c.id)).all() == [
            (1, "%PDF 张三".encode(), [{"name": "张三"}]), (2, None, None)]
    engine.dispose()
