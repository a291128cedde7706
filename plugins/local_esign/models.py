"""The e-signature plugin's tables: signing keys, the signed documents, and the evidence of each signature.

A signer's Ed25519 private key is stored encrypted (AES-GCM through :class:`core.customers.pii.EncryptedString`, keyed
by ``LOANFACTORY_PII_KEY``), next to its public key and the public key's SHA-256 fingerprint. A signer is
found by a blind index of role and identifier, so the ID number itself is never stored in clear; the signed
documents (which name the borrower) and the signers' names and identifiers are encrypted the same way.

``esign_documents`` keeps the exact bytes that were signed and their SHA-256; ``esign_signatures`` keeps
one row of evidence per signature (who, in what role, when, over which hash, through which channel, the
signature and the public key). Rows are written once and never updated: a re-signature is a new row.
``signed_at`` is kept as the exact ISO 8601 text that was signed (with its UTC offset): SQLite would drop
the offset of a ``DateTime`` column, and the statement would no longer match.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.customers.pii import EncryptedBytes, EncryptedString
from core.db.base import Base


class SignerKey(Base):
    """One signer's key pair; the newest row of a signer is the key in use."""

    __tablename__ = "esign_signer_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signer_index: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    private_key: Mapped[str] = mapped_column(EncryptedString("esign_signer_keys.private_key"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredDocument(Base):
    """The bytes of a rendered contract, as signed."""

    __tablename__ = "esign_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(EncryptedBytes("esign_documents.content"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignatureRecord(Base):
    """The evidence of one signature on one document."""

    __tablename__ = "esign_signatures"
    __table_args__ = (UniqueConstraint("contract_id", "role", "signature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("esign_documents.contract_id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(EncryptedString("esign_signatures.signer_name"))
    signer_identifier: Mapped[str] = mapped_column(EncryptedString("esign_signatures.signer_identifier"))
    signer_index: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    algorithm: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(String(64))
    key_fingerprint: Mapped[str] = mapped_column(String(64))
