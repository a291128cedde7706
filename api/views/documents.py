"""Documents: a channel uploads a customer's or an enterprise's document and lists them.

``multipart/form-data`` with ``file``, ``kind`` and optionally ``application_id`` or ``loan_id``. The body may be
as large as ``DOCUMENTS_MAX_BYTES`` plus the form's overhead (beyond that a 413 before it is read); the kernel
checks the content (:func:`core.documents.files.add_document`) and the channel's scope decides whose documents
it may touch (another channel's customer is a 404). Nothing is stored unless everything passes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api.auth import current_client
from api.problems import ApiProblem, invalid
from api.serialize import iso
from api.transactions import idempotent
from core.customers.parties import ENTERPRISE, INDIVIDUAL, PartyRef
from core.documents.files import Document, add_document, documents_of
from core.origination.customers import customer_in_scope, enterprise_in_scope
from loanfactory.database import db_session
from loanfactory.documents import FORM_OVERHEAD, document_store, max_document_bytes

ATTACHMENTS = ("application_id", "loan_id")


def document_json(document: Document) -> dict[str, Any]:
    return {"id": document.id, "kind": document.kind, "media_type": document.media_type, "size": document.size,
            "sha256": document.sha256, "retention_class": document.retention_class,
            "application_id": document.application_id, "loan_id": document.loan_id,
            "uploaded_at": iso(document.uploaded_at)}


def uploads(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let this request's body be as large as a document (the app's limit is for JSON)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = max_document_bytes() + FORM_OVERHEAD
        return view(*args, **kwargs)

    return wrapper


def _attachment(name: str) -> int | None:
    text = request.form.get(name)
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 9):
        raise invalid([(f"/{name}", "must be an id")])
    return int(text)


def _upload(subject: PartyRef) -> tuple[Response, int]:
    if not request.mimetype == "multipart/form-data":
        raise ApiProblem(415, "Unsupported Media Type", "send the document as multipart/form-data",
                         slug="unsupported-media-type", errors=[("header:Content-Type", "must be multipart/form-data")])
    file = request.files.get("file")
    if file is None:
        raise invalid([("/file", "is required: the document's bytes")])
    client = current_client()
    document = add_document(db_session(), document_store(), subject, request.form.get("kind", ""), file.read(),
                            actor=f"channel:{client.channel}", now=datetime.now(UTC), filename=file.filename,
                            channel=client.channel, application_id=_attachment("application_id"),
                            loan_id=_attachment("loan_id"), max_bytes=max_document_bytes())
    return jsonify(document_json(document)), 201


def register(bp: Blueprint) -> None:
    @bp.post("/customers/<int:customer_id>/documents")
    @uploads
    @idempotent
    def upload_customer_document(customer_id: int) -> tuple[Response, int]:
        customer_in_scope(db_session(), current_client().channel, customer_id)
        return _upload(PartyRef(INDIVIDUAL, customer_id))

    @bp.get("/customers/<int:customer_id>/documents")
    def list_customer_documents(customer_id: int) -> Response:
        customer_in_scope(db_session(), current_client().channel, customer_id)
        rows = documents_of(db_session(), PartyRef(INDIVIDUAL, customer_id))
        return jsonify({"items": [document_json(d) for d in rows]})

    @bp.post("/enterprises/<int:enterprise_id>/documents")
    @uploads
    @idempotent
    def upload_enterprise_document(enterprise_id: int) -> tuple[Response, int]:
        enterprise_in_scope(db_session(), current_client().channel, enterprise_id)
        return _upload(PartyRef(ENTERPRISE, enterprise_id))

    @bp.get("/enterprises/<int:enterprise_id>/documents")
    def list_enterprise_documents(enterprise_id: int) -> Response:
        enterprise_in_scope(db_session(), current_client().channel, enterprise_id)
        rows = documents_of(db_session(), PartyRef(ENTERPRISE, enterprise_id))
        return jsonify({"items": [document_json(d) for d in rows]})
