"""Errors as ``application/problem+json`` (RFC 9457), every bad field named by a JSON pointer.

A response body looks like::

    {"type": "https://loanfactory.example/problems/invalid-request", "title": "Invalid request",
     "status": 422, "detail": "2 fields are invalid",
     "errors": [{"pointer": "/amount", "detail": "must be at least 1000.00"},
                {"pointer": "/applicant/id_number", "detail": "checksum digit is wrong"}]}

Kernel errors carry ``field`` (dotted for nested fields: ``applicant.id_number``); :func:`pointer_for`
turns it into a pointer into the request body, translating the kernel's argument names (``principal``,
``periods``) into the API's (``amount``, ``term``). A header at fault is reported as ``{"header": name}``
and a query parameter as ``{"parameter": name}`` (fields ``header:<Name>`` and ``query:<name>``).

The database away (:func:`core.db.outage.unavailable`: restarting, refusing connections, a connection cut)
is a 503 ``database-unavailable`` with ``Retry-After``: nothing was done (a request's work commits whole or
not at all), and the same request, under the same ``Idempotency-Key``, succeeds once the database is back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, json, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from core.db.outage import unavailable
from core.errors import FieldProblems, InvalidArgumentError, LoanFactoryError, StoredRecordError, WrongStateError
from core.origination.errors import (
    ChannelAuthError,
    ChannelScopeError,
    ContractMismatchError,
    NotFoundError,
    ProductPausedError,
    UnknownProductError,
)
from core.plugins.types import PluginNotFoundError

PROBLEM_BASE = "https://loanfactory.example/problems/"

#: every problem ``type`` the API answers with (its last path segment), its status and what it means; the
#: OpenAPI document enumerates, per operation, the ones that operation can answer with
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "malformed-json": (400, "the body is not valid JSON (or not UTF-8, or nested too deep to read)"),
    "unauthorized": (401, "no API key, or an unknown, malformed or revoked one"),
    "bad-signature": (401, "the payment channel's callback signature does not match"),
    "forbidden": (403, "this key may not sell the product"),
    "not-found": (404, "no such resource for this channel (or the product was never published or is retired)"),
    "product-paused": (409, "the product is paused: it sells again when it is resumed"),
    "wrong-state": (409, "the resource is not in a state that allows this (the detail says which)"),
    "idempotency-key-reused": (409, "this Idempotency-Key was used with another request"),
    "idempotency-in-progress": (409, "a request with this Idempotency-Key is still running: send it again"),
    "request-entity-too-large": (413, "the body is larger than the server accepts (1 MiB by default)"),
    "unsupported-media-type": (415, "the body is not application/json"),
    "invalid-request": (422, "invalid fields, headers or parameters, every one named in `errors`"),
    "contract-mismatch": (422, "the signature names another document (sha256) or another signer than the contract's"),
    "refused": (422, "refused by the rules (a plugin refused on purpose, a limit reached); the detail says why"),
    "too-many-requests": (429, "the key's rate limit, or too many failed authentications from this address"),
    "internal-server-error": (500, "a fault of the server; nothing was done"),
    "damaged-record": (500, "a record the factory stored lacks a term or holds one that does not parse"),
    "plugin-unavailable": (503, "a plugin (e-signature, payment channel) is unavailable: send the same request "
                                "again, with the same Idempotency-Key, after Retry-After seconds"),
    "database-unavailable": (503, "the database is unavailable: send the same request again, with the same "
                                  "Idempotency-Key, after Retry-After seconds"),
}
MEDIA_TYPE = "application/problem+json"
#: seconds a client is asked to wait before sending a request again while the database is away
DATABASE_RETRY_AFTER = 2

#: kernel argument names -> request body fields
KERNEL_FIELDS = {"principal": "amount", "periods": "term", "annual_rate": "rate"}


def pointer_for(field: str | None) -> str:
    """The JSON pointer of a kernel ``field`` in the request (``""`` = the whole document)."""
    if not field:
        return ""
    if field.startswith(("/", "header:", "query:")):
        return field
    return pointer_for_path(tuple(KERNEL_FIELDS.get(part, part) for part in field.split(".")))


def pointer_for_path(path: tuple[str, ...]) -> str:
    """The JSON pointer of the keys and indexes ``path``; a character UTF-8 cannot encode (a lone surrogate in
    a key) is written as its escape, so the problem itself can be sent."""
    return "".join("/" + part.encode("utf-8", "backslashreplace").decode().replace("~", "~0").replace("/", "~1")
                   for part in path)


def error_entry(where: str, detail: str) -> dict[str, str]:
    """One entry of ``errors``: a JSON ``pointer`` into the body, or the ``header`` / query ``parameter``
    at fault (written ``header:Name`` / ``query:name`` by the code that found it)."""
    if where.startswith("/header:") or where.startswith("header:"):
        return {"header": where.split("header:", 1)[1], "detail": detail}
    if where.startswith("/query:") or where.startswith("query:"):
        return {"parameter": where.split("query:", 1)[1], "detail": detail}
    return {"pointer": where, "detail": detail}


class ApiProblem(Exception):
    """An HTTP problem raised by a view; ``errors`` are ``(pointer, detail)`` pairs."""

    def __init__(self, status: int, title: str, detail: str = "", *, slug: str | None = None,
                 errors: Iterable[tuple[str, str]] = (), headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = list(errors)
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [error_entry(p, d) for p, d in self.errors]
        response = Response(json.dumps(body), status=self.status, mimetype=MEDIA_TYPE)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def invalid(errors: list[tuple[str, str]]) -> ApiProblem:
    """A 422 naming every bad field."""
    count = len(errors)
    detail = "1 field is invalid" if count == 1 else f"{count} fields are invalid"
    return ApiProblem(422, "Invalid request", detail, slug="invalid-request", errors=errors)


def from_kernel(error: LoanFactoryError) -> ApiProblem:
    """Translate a kernel refusal into a problem with the right status and the field's pointer."""
    if isinstance(error, ContractMismatchError):
        return ApiProblem(422, "Contract mismatch", error.message, slug="contract-mismatch",
                          errors=[(pointer_for(field), message) for field, message in error.problems])
    if isinstance(error, FieldProblems):
        return invalid([(pointer_for(field), message) for field, message in error.problems])
    pointer = pointer_for(error.field)
    errors = [(pointer, error.message)]
    if isinstance(error, ChannelAuthError):
        return ApiProblem(401, "Unauthorized", error.message, errors=errors,
                          headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})
    if isinstance(error, ChannelScopeError):
        return ApiProblem(403, "Forbidden", error.message, errors=errors)
    if isinstance(error, StoredRecordError):  # the fault is in what we stored, not in the request
        return ApiProblem(500, "Damaged record", error.message, slug="damaged-record")
    if isinstance(error, (UnknownProductError, NotFoundError, PluginNotFoundError)):
        return ApiProblem(404, "Not found", error.message, slug="not-found")
    if isinstance(error, ProductPausedError):
        return ApiProblem(409, "Product paused", error.message, slug="product-paused", errors=errors)
    if isinstance(error, WrongStateError):
        return ApiProblem(409, "Conflict", error.message, slug="wrong-state", errors=errors)
    if isinstance(error, InvalidArgumentError):
        return invalid(errors)
    return ApiProblem(422, "Refused", error.message, slug="refused", errors=errors)


def database_unavailable() -> ApiProblem:
    """The 503 of a request the database could not serve now (:func:`core.db.outage.unavailable`)."""
    return ApiProblem(503, "Service Unavailable", "the database is not available at the moment: send the same "
                      "request again (with the same Idempotency-Key) after Retry-After seconds",
                      slug="database-unavailable", headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def register_handlers(app: Flask, blueprint: Blueprint, url_prefix: str) -> None:
    """Answer the blueprint's problems and kernel errors, and HTTP errors under ``url_prefix``, as
    problem+json (other parts of the app, such as the admin, keep their own error pages)."""

    @blueprint.errorhandler(ApiProblem)
    def _problem(problem: ApiProblem) -> Response:
        return problem.response()

    @blueprint.errorhandler(LoanFactoryError)
    def _kernel(error: LoanFactoryError) -> Response:
        return from_kernel(error).response()

    @blueprint.errorhandler(DBAPIError)
    @blueprint.errorhandler(PoolTimeoutError)
    def _database(error: Exception) -> Response:
        if not unavailable(error):
            raise error  # a database error that is a bug (a constraint broken): the 500 below
        return database_unavailable().response()

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith(url_prefix):
            return error
        problem = ApiProblem(error.code or 500, error.name, error.description or "",
                             slug=error.name.lower().replace(" ", "-"))
        response = problem.response()
        for name, value in error.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response
