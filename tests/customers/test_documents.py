"""Documents: content told by magic numbers, content-addressed encrypted storage, attachment rules, and the
product's required documents before approval; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from stdnum.cn import ric

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.customers.parties import INDIVIDUAL, Customer, PartyRef
from core.customers.pii import PiiDecryptionError
from core.documents.files import Document, add_document, documents_of, missing_kinds, read_document
from core.documents.kinds import KINDS, DocumentRefusedError, checked_content
from core.documents.storage import DirectoryStore, DocumentStoreError

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG (8-bit greyscale), built from the specification's chunks."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WINDOWS_EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
               + b"\x00" * 64)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def test_content_decides_the_type_not_the_name():
    assert checked_content(KINDS["id_card_front"], png()) == "image/png"
    assert checked_content(KINDS["id_card_front"], JPEG) == "image/jpeg"
    assert checked_content(KINDS["bank_statement"], PDF) == "application/pdf"
    for disguised in (WINDOWS_EXE, ELF, b"#!/bin/sh\nrm -rf /\n", b"just text"):
        with pytest.raises(DocumentRefusedError) as refused:
            checked_content(KINDS["id_card_front"], disguised)
        assert refused.value.field == "file"
    with pytest.raises(DocumentRefusedError, match="a id_card_front must be"):
        checked_content(KINDS["id_card_front"], PDF)


def test_empty_and_oversize_files_are_refused_naming_the_limit():
    with pytest.raises(DocumentRefusedError, match="empty"):
        checked_content(KINDS["bank_statement"], b"")
    big = PDF + b"0" * 2048
    with pytest.raises(DocumentRefusedError, match=f"is {len(big)} bytes, at most 1024"):
        checked_content(KINDS["bank_statement"], big, max_bytes=1024)


def test_the_store_keeps_content_encrypted_under_its_digest_once(tmp_path: Path):
    store = DirectoryStore(tmp_path)
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    store.put(digest, data)
    stored = tmp_path / digest[:2] / digest[2:4] / digest
    sealed = stored.read_bytes()
    assert data not in sealed and b"IHDR" not in sealed
    store.put(digest, data)
    assert stored.read_bytes() == sealed, "the same content is stored once"
    assert store.get(digest) == data
    with pytest.raises(DocumentStoreError):
        store.put("0" * 64, data)
    other = hashlib.sha256(JPEG).hexdigest()
    moved = tmp_path / other[:2] / other[2:4] / other
    moved.parent.mkdir(parents=True)
    moved.write_bytes(sealed)
    with pytest.raises(PiiDecryptionError):
        store.get(other)
    stored.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(PiiDecryptionError):
        store.get(digest)
    store.delete(digest)
    with pytest.raises(DocumentStoreError, match="not in the store"):
        store.get(digest)
    with pytest.raises(DocumentStoreError):
        store.get("../../etc/passwd")


def customer(session, birth: str) -> Customer:
    first = f"110101{birth}005"
    row = Customer(name="张三", id_number=first + ric.calc_check_digit(first + "0"), phone="13812345678")
    session.add(row)
    session.flush()
    return row


def test_a_document_is_recorded_audited_and_read_back_with_a_reason(db_session, tmp_path):
    store = DirectoryStore(tmp_path)
    owner = PartyRef(INDIVIDUAL, customer(db_session, "19900101").id)
    document = add_document(db_session, store, owner, "id_card_front", png(), actor="channel:app", now=NOW,
                            filename="张三身份证.png", channel="app")
    db_session.commit()
    assert (document.media_type, document.retention_class, document.size) == ("image/png", "customer_identification",
                                                                              len(png()))
    assert "张三" not in db_session.scalar(text("SELECT filename FROM documents"))
    with pytest.raises(DocumentRefusedError, match="reason"):
        read_document(db_session, store, document, actor="ops", reason="")
    assert read_document(db_session, store, document, actor="ops", reason="核对身份") == png()
    actions = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["document.upload", "document.read"]
    assert [d.id for d in documents_of(db_session, owner)] == [document.id]
    assert missing_kinds(db_session, owner, ["id_card_front", "id_card_back"]) == ["id_card_back"]


def test_a_refused_document_stores_nothing(db_session, tmp_path):
    store = DirectoryStore(tmp_path / "documents")
    owner = customer(db_session, "19900101")
    stranger = customer(db_session, "19850505")
    application = Application(customer_id=stranger.id, channel="app", product_code="P", product_version_id=1,
                              amount=1000, term=6, method="equal_installment", state="submitted")
    db_session.add(application)
    db_session.flush()
    attempts = [
        (dict(kind="id_card_front", data=WINDOWS_EXE), "file"),
        (dict(kind="passport", data=png()), "kind"),
        (dict(kind="bank_statement", data=PDF, application_id=application.id), "application_id"),
        (dict(kind="bank_statement", data=PDF, loan_id=12345), "loan_id"),
        (dict(kind="bank_statement", data=PDF + b"x" * 100, max_bytes=64), "file"),
    ]
    for arguments, field in attempts:
        with pytest.raises(DocumentRefusedError) as refused:
            add_document(db_session, store, PartyRef(INDIVIDUAL, owner.id), actor="x", now=NOW, **arguments)
        assert refused.value.field == field
    assert db_session.scalar(select(func.count()).select_from(Document)) == 0
    assert not (tmp_path / "documents").exists()
