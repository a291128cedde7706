"""The record of each document and the rules of attaching it.

A :class:`Document` belongs to a customer (an individual or an enterprise, exactly one) and may also be
attached to one of that customer's applications or loans; it names its kind, the media type its content
showed, size, SHA-256 (the address of its bytes in the :class:`~core.documents.storage.DocumentStore`), its
retention class, the channel or person who handed it in, and the file name given (encrypted: names often
carry a person's name). :func:`add_document` checks everything before it stores a byte: the content
(:func:`core.documents.kinds.checked_content`) and that the application or loan is the customer's; then it
puts the bytes, inserts the record and audits ``document.upload``. :func:`read_document` returns the bytes
with a ``document.read`` audit event. :func:`missing_kinds` says which kinds a customer has not handed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.applications.models import Application
from core.backoffice import audit
from core.customers.parties import ENTERPRISE, INDIVIDUAL, PartyRef
from core.customers.pii import EncryptedString
from core.db.base import Base
from core.documents.kinds import DEFAULT_MAX_BYTES, DocumentRefusedError, checked_content, document_kind
from core.documents.storage import DocumentStore, digest_of
from core.loans.models import Loan


class Document(Base):
    """A document handed in; its bytes are in the store under ``sha256``."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name="subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    media_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    retention_class: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(EncryptedString("documents.filename"))
    channel: Mapped[str | None] = mapped_column(String(60))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def subject(self) -> PartyRef:
        if self.customer_id is not None:
            return PartyRef(INDIVIDUAL, self.customer_id)
        assert self.enterprise_id is not None
        return PartyRef(ENTERPRISE, self.enterprise_id)


def _check_attachment(session: Session, subject: PartyRef, application_id: int | None, loan_id: int | None) -> None:
    """Refuse an application or loan that is not the subject's (``application_id``, ``loan_id``)."""
    if application_id is not None:
        application = session.get(Application, application_id)
        owner = None if application is None else (
            application.enterprise_id if subject.kind == ENTERPRISE else application.customer_id)
        if owner != subject.id:
            raise DocumentRefusedError(f"application_id: no application {application_id} of this customer",
                                       field="application_id", value=application_id)
    if loan_id is not None:
        loan = session.get(Loan, loan_id)
        if loan is None:
            owner = None
        elif subject.kind == INDIVIDUAL:
            owner = loan.customer_id
        else:
            owner = session.scalar(select(Application.enterprise_id).where(Application.id == loan.application_id))
        if owner != subject.id:
            raise DocumentRefusedError(f"loan_id: no loan {loan_id} of this customer", field="loan_id", value=loan_id)


def add_document(session: Session, store: DocumentStore, subject: PartyRef, kind: str, data: bytes, *,
                 actor: str, now: datetime, filename: str | None = None, channel: str | None = None,
                 application_id: int | None = None, loan_id: int | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Check, store and record a document of ``subject`` (the caller commits).

    Raises:
        DocumentRefusedError: an unknown kind; empty, oversize or wrongly typed content (``file``); an
            application or loan not the subject's. Nothing is stored then.
    """
    checked_kind = document_kind(kind)
    media_type = checked_content(checked_kind, data, max_bytes)
    _check_attachment(session, subject, application_id, loan_id)
    name = (filename or "").strip()[:200] or None
    digest = digest_of(data)
    store.put(digest, data)
    document = Document(kind=checked_kind.code, media_type=media_type, size=len(data), sha256=digest,
                        retention_class=checked_kind.retention_class, filename=name, channel=channel,
                        uploaded_by=actor, uploaded_at=now, application_id=application_id, loan_id=loan_id,
                        **subject.columns())
    session.add(document)
    session.flush([document])
    audit.record(session, actor=actor, action="document.upload", entity_type="document", entity_id=document.id,
                 after={"subject": str(subject), "kind": document.kind, "media_type": media_type,
                        "size": document.size, "sha256": digest, "application_id": application_id,
                        "loan_id": loan_id})
    return document


def documents_of(session: Session, subject: PartyRef, application_id: int | None = None) -> list[Document]:
    """The subject's documents, newest first (only those of ``application_id`` or of no application, when
    given)."""
    column = Document.customer_id if subject.kind == INDIVIDUAL else Document.enterprise_id
    query = select(Document).where(column == subject.id)
    if application_id is not None:
        query = query.where((Document.application_id == application_id) | Document.application_id.is_(None))
    return list(session.scalars(query.order_by(Document.id.desc())))


def missing_kinds(session: Session, subject: PartyRef, kinds: Iterable[str],
                  application_id: int | None = None) -> list[str]:
    """The ``kinds`` the subject has not handed in (for ``application_id``, or for no application)."""
    held = {document.kind for document in documents_of(session, subject, application_id)}
    return [kind for kind in kinds if kind not in held]


def read_document(session: Session, store: DocumentStore, document: Document, *, actor: str, reason: str) -> bytes:
    """The document's bytes, with a ``document.read`` audit event naming who read it and why.

    Raises:
        DocumentRefusedError: no reason given (``reason``).
        DocumentStoreError: the bytes are missing or damaged.
    """
    if not (reason or "").strip():
        raise DocumentRefusedError("reason: say why you open the document", field="reason")
    data = store.get(document.sha256)
    audit.record(session, actor=actor, action="document.read", entity_type="document", entity_id=document.id,
                 comment=reason.strip())
    return data
