"""Signing and verifying contracts with Ed25519, and keeping the evidence.

What is signed is not the PDF alone but a canonical JSON statement of the evidence: the document's
SHA-256, the signer's role, name and identifier, the time and the channel (:func:`signed_statement`).
Changing any byte of the document changes its hash; changing the time, the channel or the signer
changes the statement; either way the signature no longer verifies. This is what 电子签名法 Art. 13
asks of a reliable electronic signature: any later change to the document or the signature is
detectable.

Each signer has their own key pair (:class:`KeyStore`), created at their first signature and kept with
the private key encrypted at rest. :func:`verify` checks the document against every signature; given a
session it also checks that each public key is one registered for that signer, so a forger cannot
replace both a signature and its public key with their own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.customers.pii import blind_index
from core.errors import LoanFactoryError
from core.plugins.types import ContractDocument, SignatureEvidence, SignedDocument, Signer, VerificationResult
from plugins.local_esign.models import SignatureRecord, SignerKey, StoredDocument

ALGORITHM = "Ed25519"
CHANNELS = frozenset({"app", "h5", "counter", "system", "api"})


class DocumentHashMismatchError(LoanFactoryError):
    """The document's bytes do not hash to the SHA-256 it carries: it was changed after rendering."""


class DocumentConflictError(LoanFactoryError):
    """A contract with this id was already signed with different bytes; a contract id names one text."""


class AlreadySignedError(LoanFactoryError):
    """The document already carries a signature in this signer's role."""


class UnknownChannelError(LoanFactoryError):
    """The signing channel is not one of :data:`CHANNELS`."""


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def signer_index(signer: Signer) -> str:
    """A blind index of role and identifier: finds a signer's keys without storing the ID in clear."""
    return blind_index(f"{signer.role}:{signer.identifier.strip().upper()}", "esign.signer")


def signed_statement(contract_id: str, sha256: str, signer: Signer, signed_at: datetime, channel: str) -> bytes:
    """The canonical bytes a signature covers: sorted-key JSON of the evidence, UTF-8."""
    statement = {
        "algorithm": ALGORITHM, "channel": channel, "contract_id": contract_id, "sha256": sha256,
        "signed_at": signed_at.isoformat(), "signer": {"identifier": signer.identifier, "name": signer.name,
                                                       "role": signer.role},
    }
    return json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class KeyStore:
    """Per-signer Ed25519 keys in ``esign_signer_keys``, private keys encrypted at rest."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def signing_key(self, signer: Signer, now: datetime) -> tuple[Ed25519PrivateKey, SignerKey]:
        """The signer's newest key, created (and stored) on their first signature."""
        row = self.session.scalars(
            select(SignerKey).where(SignerKey.signer_index == signer_index(signer))
            .order_by(SignerKey.created_at.desc(), SignerKey.id.desc()).limit(1)
        ).first()
        if row is not None:
            private = serialization.load_pem_private_key(row.private_key.encode("ascii"), password=None)
            assert isinstance(private, Ed25519PrivateKey)
            return private, row
        private = Ed25519PrivateKey.generate()
        public = _raw_public(private.public_key())
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode("ascii")
        row = SignerKey(signer_index=signer_index(signer), role=signer.role,
                        public_key=base64.b64encode(public).decode("ascii"),
                        fingerprint=hashlib.sha256(public).hexdigest(), private_key=pem, created_at=now)
        self.session.add(row)
        self.session.flush()
        return private, row

    def registered_public_keys(self, signer: Signer) -> set[str]:
        """Every public key (base64) ever registered for ``signer``."""
        return set(self.session.scalars(
            select(SignerKey.public_key).where(SignerKey.signer_index == signer_index(signer))))


def _store_document(session: Session, document: SignedDocument, now: datetime) -> None:
    doc = document.document
    stored = session.scalars(select(StoredDocument).where(StoredDocument.contract_id == doc.contract_id)).first()
    if stored is None:
        session.add(StoredDocument(contract_id=doc.contract_id, media_type=doc.media_type, sha256=doc.sha256,
                                   content=doc.content, created_at=now))
        session.flush()
    elif stored.sha256 != doc.sha256:
        raise DocumentConflictError(
            f"contract_id: {doc.contract_id} was signed as {stored.sha256[:12]}…, not {doc.sha256[:12]}…",
            field="contract_id", value=doc.contract_id)


def sign(session: Session, document: SignedDocument, signer: Signer, channel: str, now: datetime) -> SignedDocument:
    """Sign ``document`` as ``signer`` at ``now``; store the document (once) and the evidence.

    Raises:
        DocumentHashMismatchError: the bytes do not match the document's SHA-256.
        DocumentConflictError: the contract id was signed before with other bytes.
        AlreadySignedError: a signature in ``signer.role`` is already on the document.
        UnknownChannelError: ``channel`` is not one of :data:`CHANNELS`.
    """
    doc = document.document
    if channel not in CHANNELS:
        raise UnknownChannelError(f"channel: {channel!r} is not one of {sorted(CHANNELS)}", field="channel",
                                  value=channel)
    if sha256_hex(doc.content) != doc.sha256:
        raise DocumentHashMismatchError(f"document: the bytes of {doc.contract_id} do not match its SHA-256",
                                        field="document.sha256")
    if any(existing.signer.role == signer.role for existing in document.signatures):
        raise AlreadySignedError(f"signer: {doc.contract_id} is already signed by the {signer.role}",
                                 field="signer.role", value=signer.role)
    if now.tzinfo is None:
        raise LoanFactoryError("now: the signing time must carry a time zone", field="now")
    _store_document(session, document, now)
    private, key_row = KeyStore(session).signing_key(signer, now)
    statement = signed_statement(doc.contract_id, doc.sha256, signer, now, channel)
    signature = base64.b64encode(private.sign(statement)).decode("ascii")
    evidence = SignatureEvidence(signer=signer, signed_at=now, sha256=doc.sha256, signature=signature,
                                 public_key=key_row.public_key, channel=channel, algorithm=ALGORITHM)
    session.add(SignatureRecord(
        contract_id=doc.contract_id, role=signer.role, signer_name=signer.name, signer_identifier=signer.identifier,
        signer_index=signer_index(signer), signed_at=now.isoformat(), sha256=doc.sha256, channel=channel,
        algorithm=ALGORITHM, signature=signature, public_key=key_row.public_key, key_fingerprint=key_row.fingerprint))
    session.flush()
    return replace(document, signatures=(*document.signatures, evidence))


def _signature_problem(contract_id: str, actual_sha: str, evidence: SignatureEvidence) -> str | None:
    who = f"{evidence.signer.role} {evidence.signer.name}"
    if evidence.algorithm != ALGORITHM:
        return f"{who}: unsupported algorithm {evidence.algorithm!r}"
    if evidence.sha256 != actual_sha:
        return f"{who}: signed SHA-256 {evidence.sha256[:12]}… but the document hashes to {actual_sha[:12]}…"
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(evidence.public_key, validate=True))
        statement = signed_statement(contract_id, evidence.sha256, evidence.signer, evidence.signed_at,
                                     evidence.channel)
        public.verify(base64.b64decode(evidence.signature, validate=True), statement)
    except (InvalidSignature, ValueError):
        return f"{who}: the signature does not verify against the document and its evidence"
    return None


def verify(document: SignedDocument, session: Session | None = None,
           required_roles: tuple[str, ...] = ("borrower", "lender")) -> VerificationResult:
    """Whether ``document`` is intact and signed by every role in ``required_roles``.

    Checks: the bytes hash to the document's SHA-256; each signature covers that hash and verifies over
    its evidence statement; with a ``session``, each public key is one registered for its signer.
    """
    doc = document.document
    actual = sha256_hex(doc.content)
    problems = []
    if actual != doc.sha256:
        problems.append(f"document: the bytes hash to {actual[:12]}…, not the recorded {doc.sha256[:12]}…")
    keys = KeyStore(session) if session is not None else None
    for evidence in document.signatures:
        problem = _signature_problem(doc.contract_id, actual, evidence)
        if problem is None and keys is not None and evidence.public_key not in keys.registered_public_keys(
                evidence.signer):
            problem = f"{evidence.signer.role} {evidence.signer.name}: the public key is not registered to this signer"
        if problem:
            problems.append(problem)
    signed_roles = {evidence.signer.role for evidence in document.signatures}
    problems += [f"{role}: has not signed" for role in required_roles if role not in signed_roles]
    return VerificationResult(valid=not problems, problems=tuple(problems))


def load_signed_document(session: Session, contract_id: str) -> SignedDocument:
    """The stored document ``contract_id`` with the stored evidence of every signature on it.

    Raises:
        LoanFactoryError: no document is stored under ``contract_id``.
    """
    stored = session.scalars(select(StoredDocument).where(StoredDocument.contract_id == contract_id)).first()
    if stored is None:
        raise LoanFactoryError(f"contract_id: no signed document {contract_id!r}", field="contract_id",
                               value=contract_id)
    rows = session.scalars(select(SignatureRecord).where(SignatureRecord.contract_id == contract_id)
                           .order_by(SignatureRecord.id)).all()
    signatures = tuple(
        SignatureEvidence(signer=Signer(role=row.role, name=row.signer_name, identifier=row.signer_identifier),  # type: ignore[arg-type]
                          signed_at=datetime.fromisoformat(row.signed_at), sha256=row.sha256, signature=row.signature,
                          public_key=row.public_key, channel=row.channel, algorithm=row.algorithm)
        for row in rows)
    return SignedDocument(document=ContractDocument(contract_id=contract_id, content=stored.content,
                                                    media_type=stored.media_type, sha256=stored.sha256),
                          signatures=signatures)
