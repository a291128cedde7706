"""The channel API's OpenAPI 3.1 contract: the documents the channels generate their SDKs from.

One registry of operations (:mod:`api.openapi.registry`; every operation registered in
:mod:`api.openapi.operations`, the place to add one), typed component schemas (:mod:`api.openapi.schemas`,
:mod:`api.openapi.resources`, the request bodies in :mod:`api.openapi.requests`), the ``webhooks`` section
(:mod:`api.openapi.webhooks`) and the assembly with its version and ETag (:mod:`api.openapi.document`).
"""

from __future__ import annotations

from api.openapi.document import build_document, document_for, etag
from api.openapi.operations import register_all
from api.openapi.registry import OPERATIONS, Operation, Success, register

register_all()

__all__ = ["OPERATIONS", "Operation", "Success", "build_document", "document_for", "etag", "register"]
