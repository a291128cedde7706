"""The registry of the API's operations: one :class:`Operation` per path and method, with its schemas.

An operation says what it takes (path parameters, query parameters, the request body's component schema,
whether it needs an ``Idempotency-Key``), what it answers on success (status, schema or media types,
headers) and which problem types it can answer with (:data:`api.problems.PROBLEM_TYPES`, grouped by status
into responses whose ``type`` is enumerated). :func:`register` adds one; the document
(:mod:`api.openapi.document`) is built from every registered operation, so a new endpoint is one call in
:mod:`api.openapi.operations` (or in the module that adds it) next to its view. Operation ids are a promise
to the channels' generated clients: ``tests/api/operation_ids.txt`` lists every one ever published, and a test
fails when one disappears.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from api.openapi.schemas import ref
from api.problems import PROBLEM_BASE, PROBLEM_TYPES
from core.origination.catalog import Offer

#: the problems every authenticated operation can answer with
AUTHENTICATED = ("unauthorized", "too-many-requests", "internal-server-error", "database-unavailable")
#: the problems of reading a JSON body
BODY = ("malformed-json", "request-entity-too-large", "unsupported-media-type", "invalid-request")
#: the problems of an operation under an Idempotency-Key
IDEMPOTENT = ("invalid-request", "idempotency-key-reused", "idempotency-in-progress")
#: the problems of an operation on one product
PRODUCT = ("not-found", "forbidden", "product-paused")

RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
HEADERS: dict[str, Any] = {
    "Location": {"description": "The URL of the resource created.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored response of an earlier request "
                                           "with the same Idempotency-Key.", "schema": {"type": "string",
                                                                                         "enum": ["true"]}},
    "X-RateLimit-Limit": {"description": "Requests the key may make in the window.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window ends (Unix time).", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before sending the request again.",
                    "schema": {"type": "integer"}},
    "ETag": {"description": "The document's version: send it in If-None-Match to be told 304 when it has not "
                            "changed.", "schema": {"type": "string"}},
    "Last-Modified": {"description": "When the products behind the document last changed.",
                      "schema": {"type": "string"}},
}


@dataclass(frozen=True)
class Success:
    """The answer of a successful call: ``schema`` for a JSON body (``None``: no body), ``media`` for other
    representations of it (``{"application/pdf": "…"}``), and the headers it carries."""

    status: str
    description: str
    schema: str | None = None
    media: dict[str, str] = field(default_factory=dict)
    headers: tuple[str, ...] = ()
    example: Any = None


@dataclass(frozen=True)
class Operation:
    """One operation of the API. ``path`` is the OpenAPI template (``/loans/{loan_id}``), ``problems`` the
    problem types (slugs of :data:`~api.problems.PROBLEM_TYPES`) it may answer with beyond those of
    authentication (added unless ``public``) and of its body; ``channel`` is false for an operation that is
    not for the channels (the payment channel's callback): it stays out of the documents the SDKs are
    generated from and is still checked by the tests."""

    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    tag: str
    success: Success
    problems: tuple[str, ...] = ()
    body: str | None = None
    body_media: str = "application/json"
    body_example: Any = None
    parameters: tuple[dict[str, Any], ...] = ()
    idempotent: bool = False
    public: bool = False
    channel: bool = True
    also: tuple[Success, ...] = ()

    def all_problems(self) -> list[str]:
        """Every problem type this operation can answer with."""
        found = [*self.problems, *(() if self.public else AUTHENTICATED), *(BODY if self.body else ()),
                 *(IDEMPOTENT if self.idempotent else ())]
        return sorted(set(found), key=lambda slug: (PROBLEM_TYPES[slug][0], slug))

    def openapi(self) -> dict[str, Any]:
        """The operation object."""
        operation: dict[str, Any] = {"operationId": self.operation_id, "summary": self.summary,
                                     "description": self.description, "tags": [self.tag],
                                     "parameters": [*self.parameters], "responses": self._responses()}
        if self.idempotent:
            operation["parameters"].append({"$ref": "#/components/parameters/IdempotencyKey"})
        if not operation["parameters"]:
            del operation["parameters"]
        if self.body:
            media: dict[str, Any] = {"schema": ref(self.body)}
            if self.body_example is not None:
                media["example"] = self.body_example
            operation["requestBody"] = {"required": True, "content": {self.body_media: media}}
        if self.public:
            operation["security"] = []
        return operation

    def _responses(self) -> dict[str, Any]:
        responses = {success.status: self._success(success) for success in (self.success, *self.also)}
        if "ETag" in self.success.headers:
            responses["304"] = {"description": "Not modified since the ETag in If-None-Match.",
                                "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}
        by_status: dict[int, list[str]] = {}
        for slug in self.all_problems():
            by_status.setdefault(PROBLEM_TYPES[slug][0], []).append(slug)
        for status, slugs in sorted(by_status.items()):
            responses[str(status)] = problem_response(slugs, public=self.public)
        return responses

    def _success(self, success: Success) -> dict[str, Any]:
        headers = [*success.headers, *(() if self.public else RATE_LIMIT_HEADERS),
                   *(("Idempotent-Replayed",) if self.idempotent else ())]
        answer: dict[str, Any] = {"description": success.description}
        content: dict[str, Any] = {}
        if success.schema:
            content["application/json"] = {"schema": ref(success.schema)}
            if success.example is not None:
                content["application/json"]["example"] = success.example
        for media, description in success.media.items():
            content[media] = {"schema": {"type": "string", "format": "binary", "description": description}}
        if content:
            answer["content"] = content
        if headers:
            answer["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
        return answer


def problem_response(slugs: list[str], *, public: bool = False) -> dict[str, Any]:
    """The response of the problems ``slugs`` (one status): the Problem schema with ``type`` enumerated."""
    status = PROBLEM_TYPES[slugs[0]][0]
    description = "; ".join(f"`{slug}`: {PROBLEM_TYPES[slug][1]}" for slug in slugs)
    schema = {"allOf": [ref("Problem")], "properties": {"type": {"enum": [PROBLEM_BASE + s for s in slugs]}}}
    response: dict[str, Any] = {"description": description,
                                "content": {"application/problem+json": {"schema": schema}}}
    headers = [*(("Retry-After",) if status in (429, 503) else ()), *(() if public else RATE_LIMIT_HEADERS)]
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


OPERATIONS: list[Operation] = []


def register(operation: Operation) -> Operation:
    """Add ``operation`` to the API's document (its id and its path and method must be new)."""
    for known in OPERATIONS:
        if known.operation_id == operation.operation_id or (known.path, known.method) == (
                operation.path, operation.method):
            raise ValueError(f"operation {operation.operation_id} ({operation.method} {operation.path}) "
                             f"is registered already")
    OPERATIONS.append(operation)
    return operation


#: what a schema tailoring does: edit the document's component schemas in place, for the whole document
#: (``None``) or for one product's (its offer)
Tailoring = Callable[[Offer | None, dict[str, Any]], None]
#: component schemas registered beside operations by the modules outside this package (debits, credit lines,
#: customers), and how each tailors the schemas (its own or the generic ones) to a document
EXTRA_SCHEMAS: dict[str, Any] = {}
TAILORINGS: list[Tailoring] = []


def register_schemas(schemas: dict[str, Any], tailoring: Tailoring | None = None) -> None:
    """Add component ``schemas`` to every document (their names must be new) and, when given, a ``tailoring``
    applied to each document's schemas: the generic ones of the whole document, or those narrowed to a product."""
    for name in schemas:
        if name in EXTRA_SCHEMAS:
            raise ValueError(f"schema {name} is registered already")
    EXTRA_SCHEMAS.update(schemas)
    if tailoring is not None:
        TAILORINGS.append(tailoring)


def tailored(offer: Offer | None, schemas: dict[str, Any]) -> dict[str, Any]:
    """``schemas`` with the registered schemas added, copied and tailored to ``offer`` (or to the whole
    document)."""
    found = deepcopy({**schemas, **EXTRA_SCHEMAS})
    for tailoring in TAILORINGS:
        tailoring(offer, found)
    return found
