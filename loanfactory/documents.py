"""The app's document store: a :class:`~core.documents.storage.DirectoryStore` under ``DOCUMENTS_DIR`` (default
``<instance>/documents``), and the size limit ``DOCUMENTS_MAX_BYTES`` (default 10 MiB). A deployment that keeps
documents elsewhere puts its own :class:`~core.documents.storage.DocumentStore` in
``app.extensions["loanfactory.documents"]``."""

from __future__ import annotations

import os

from flask import current_app

from core.documents.kinds import DEFAULT_MAX_BYTES
from core.documents.storage import DirectoryStore, DocumentStore

EXTENSION = "loanfactory.documents"
#: what a multipart form adds around the file (boundaries, headers, the other fields)
FORM_OVERHEAD = 64 * 1024


def document_store() -> DocumentStore:
    """The current app's document store, made on first use."""
    store: DocumentStore | None = current_app.extensions.get(EXTENSION)
    if store is None:
        root = current_app.config.get("DOCUMENTS_DIR") or os.path.join(current_app.instance_path, "documents")
        store = current_app.extensions[EXTENSION] = DirectoryStore(root)
    return store


def max_document_bytes() -> int:
    """The largest document the app accepts."""
    return int(current_app.config.get("DOCUMENTS_MAX_BYTES") or DEFAULT_MAX_BYTES)
