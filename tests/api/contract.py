"""Every response the API tests receive, checked against the OpenAPI document (``CheckedClient``).

``make_api_app`` gives its apps this test client: after each request to ``/api/v1`` that matches a documented
operation, the response must have a status the operation declares, a media type declared for that status, a
body valid against its schema (objects closed: a property the schema does not declare is an error; formats
checked, so a time without its offset fails), a problem ``type`` among those the operation enumerates, and
none of the API's own headers (``Retry-After``, ``Location``...) where the operation does not declare them.
The document is the app's own, with the operations not for channels (the payment callback) included.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker

from api.openapi import document_for
from api.openapi.registry import HEADERS

PREFIX = "/api/v1"


def api_document(_app: Flask) -> dict[str, Any]:
    """The whole document, the internal operations included. Its operations and schemas do not depend on what
    is published (only ``x-products`` does), so it is built without the app's database: the checks add no
    statement to what a test counts."""
    return document_for([], internal=True)


def closed(schema: Any) -> Any:
    """``schema`` with every object that declares its properties closed to others."""
    if isinstance(schema, dict):
        result = {k: closed(v) for k, v in schema.items()}
        if result.get("type") == "object" and "properties" in result and "additionalProperties" not in result:
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


_VALIDATORS: dict[tuple[str, ...], Draft202012Validator] = {}


def _validator(document: dict[str, Any], schema: dict[str, Any], *where: str) -> Draft202012Validator:
    """A validator of ``schema`` (closed) with the document's components, made once per document version."""
    key = (document["info"]["version"], *where)
    if key not in _VALIDATORS:
        root = {**closed(copy.deepcopy(schema)), "components": closed(copy.deepcopy(document["components"]))}
        _VALIDATORS[key] = Draft202012Validator(root, format_checker=FormatChecker())
    return _VALIDATORS[key]


def _matching(document: dict[str, Any], path: str) -> str | None:
    """The document's path template ``path`` falls under (a literal segment beats a parameter)."""
    found = [template for template in document["paths"]
             if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path)]
    return min(found, key=lambda t: t.count("{")) if found else None


def problems_of(document: dict[str, Any], method: str, path: str, status: int, mimetype: str,
                headers: dict[str, str], body: Any) -> list[str]:
    """What is wrong with a response of ``method path`` against ``document`` (empty: nothing)."""
    template = _matching(document, path)
    operation = document["paths"].get(template or "", {}).get(method.lower())
    if operation is None:
        return []
    where = f"{operation['operationId']} answered {status}"
    declared = operation["responses"].get(str(status)) or operation["responses"].get(f"{str(status)[0]}XX")
    if declared is None:
        return [f"{where}, which it does not declare (declared: {sorted(operation['responses'])})"]
    problems = [f"{where} with header {name}, which it does not declare" for name in HEADERS
                if name in headers and name not in declared.get("headers", {})]
    content = declared.get("content", {})
    if status == 204 or status == 304:
        return problems
    if mimetype not in content:
        return [*problems, f"{where} as {mimetype}, declared: {sorted(content)}"]
    schema = content[mimetype]["schema"]
    if "format" in schema and schema.get("format") == "binary":
        return problems
    validator = _validator(document, schema, str(template), method, str(status), mimetype)
    problems += [f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
                 for error in validator.iter_errors(body)]
    return problems


class CheckedClient(FlaskClient):
    """A test client that fails the test at the first response the document does not describe."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        path = request.path
        if not path.startswith(PREFIX + "/") or response.status_code == 405:
            return response
        document = api_document(self.application)
        body = response.get_json(silent=True) if response.is_json else None
        problems = problems_of(document, request.method, path[len(PREFIX):], response.status_code,
                               response.mimetype, dict(response.headers), body)
        assert not problems, "the response breaks the API's document:\n" + "\n".join(problems)
        return response


def component_problems(name: str, instance: Any) -> list[str]:
    """What is wrong with ``instance`` as the component schema ``name`` (closed, formats checked)."""
    document = document_for([], internal=True)
    validator = _validator(document, {"$ref": f"#/components/schemas/{name}"}, "component", name)
    return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
