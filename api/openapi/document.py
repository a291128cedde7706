"""Assembling the OpenAPI documents, their version and their cache.

The whole document (:func:`channel_document`) holds every channel operation of the registry
(:mod:`api.openapi.registry`) with the generic request schemas; a product's document holds the same
operations, its request schemas narrowed to the product (:func:`api.openapi.requests.narrowed`). Both change
only when a product is published, paused, resumed or retired (the products on sale are listed under
``x-products``), or when the code does. ``info.version`` is ``<API_VERSION>+<hash>`` and the ETag the same
hash: the SHA-256 of the document without its version, so both change whenever anything in it does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api.openapi.operations import PARAMETERS, TAGS
from api.openapi.registry import HEADERS, OPERATIONS, tailored
from api.openapi.requests import FOLLOW_UP_SCHEMAS, REQUEST_SCHEMAS, narrowed
from api.openapi.resources import RESOURCE_SCHEMAS
from api.openapi.schemas import PRIMITIVES, PRODUCT_SCHEMAS, obj
from api.openapi.webhooks import webhooks
from core.origination.catalog import Offer

OPENAPI_VERSION = "3.1.0"
#: the contract's own version: its major number changes only when a change would break a generated client
API_VERSION = "2.0.0"

#: a part of the OpenAPI document itself, whose shape the OpenAPI specification defines (not this API)
FREE_FORM: dict[str, Any] = {"x-free-form": "defined by the OpenAPI 3.1 specification"}

DOCUMENT_SCHEMAS: dict[str, Any] = {
    "OpenApiDocument": obj({"openapi": {"type": "string"},
                            "info": obj({"title": {"type": "string"}, "version": {"type": "string"},
                                         "description": {"type": "string"}}),
                            **{name: FREE_FORM for name in ("jsonSchemaDialect", "servers", "security", "tags", "paths",
                                                            "webhooks", "components", "x-products")}},
                           required=["openapi", "info", "paths"],
                           description="An OpenAPI 3.1 document (its parts as the OpenAPI specification defines "
                                       "them)."),
    "PaymentCallback": {**FREE_FORM, "x-free-form": "the payment channel's own notice, read and verified by its "
                                                    "plugin (not a channel operation)"},
}


def _schemas(offer: Offer | None) -> dict[str, Any]:
    requests = narrowed(offer) if offer is not None else REQUEST_SCHEMAS
    return tailored(offer, {**PRIMITIVES, **PRODUCT_SCHEMAS, **RESOURCE_SCHEMAS, **requests, **FOLLOW_UP_SCHEMAS,
                            **DOCUMENT_SCHEMAS})


def build_document(offers: list[Offer], *, only: Offer | None = None, internal: bool = False) -> dict[str, Any]:
    """The document of the products ``offers`` on sale (narrowed to ``only`` when given); ``internal`` adds the
    operations not for channels (the payment callback), for the tests that check every response."""
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        if operation.channel or internal:
            paths.setdefault(operation.path, {})[operation.method] = operation.openapi()
    title = "Loan Product Factory channel API" + (f": {only.code}" if only else "")
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": title, "version": API_VERSION,
                 "description": "Money is a decimal string; dates are ISO 8601 and times RFC 3339 with their offset; "
                                "errors are application/problem+json (RFC 9457) naming every bad field by JSON "
                                "pointer. Operations never depend on what is published: a product's own document "
                                "narrows the request schemas to it."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "tags": [t for t in TAGS if internal or t["name"] != "callbacks"],
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "schemas": _schemas(only),
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "The channel's key, `lf_<prefix>_<secret>`."},
                "Bearer": {"type": "http", "scheme": "bearer", "description": "The same key as a bearer token."}},
        },
        "x-products": [{"code": o.code, "version": o.number, "document": f"/api/v1/products/{o.code}/openapi.json"}
                       for o in offers],
    }
    digest = fingerprint(document)
    document["info"]["version"] = f"{API_VERSION}+{digest[:12]}"
    return document


def fingerprint(document: dict[str, Any]) -> str:
    """The SHA-256 of ``document`` as canonical JSON (keys sorted), without its ``info.version``."""
    unversioned = {**document, "info": {k: v for k, v in document["info"].items() if k != "version"}}
    return hashlib.sha256(json.dumps(unversioned, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()


_CACHE: dict[tuple[object, ...], dict[str, Any]] = {}
CACHE_SIZE = 64


def document_for(offers: list[Offer], only: Offer | None = None, scope: str = "",
                 internal: bool = False) -> dict[str, Any]:
    """:func:`build_document`, cached by the offers' (code, version id) pairs within ``scope`` (the database:
    version ids are unique only within one)."""
    key = (scope, only.version_id if only else None, internal, *((o.code, o.version_id) for o in offers))
    document = _CACHE.get(key)
    if document is None:
        document = build_document(offers, only=only, internal=internal)
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = document
    return document


def etag(document: dict[str, Any]) -> str:
    """The document's entity tag: the hash in its ``info.version``."""
    return '"' + str(document["info"]["version"]).rsplit("+", 1)[-1] + '"'
