"""Reading request bodies: JSON objects, numbers read as exact decimals, fields checked by pointer.

A body is refused whole before any view reads a field of it when it is not JSON (400, nesting too deep for
the parser included) or not an object (422); and with a 422 naming each key or string the database could not
store (a NUL, a lone surrogate: :func:`core.inputs.document_problems`). Its size is bounded by the app's
``MAX_CONTENT_LENGTH`` (413).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from flask import request

from api.problems import ApiProblem, invalid, pointer_for, pointer_for_path
from core.inputs import document_problems
from core.origination.errors import RequestProblems

Parsed = TypeVar("Parsed")


def json_body() -> dict[str, Any]:
    """The request's JSON object; numbers are ``Decimal`` (a float would lose fen).

    Raises:
        ApiProblem: 415 when the body is not JSON, 400 when it does not parse, 422 when not an object.
    """
    if not request.is_json:
        raise ApiProblem(415, "Unsupported Media Type", "send the body as application/json",
                         slug="unsupported-media-type", errors=[("header:Content-Type", "must be application/json")])
    try:
        data = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiProblem(400, "Malformed JSON", f"the body is not valid JSON: {error}", slug="malformed-json",
                         errors=[("", "not valid JSON")]) from None
    except RecursionError:
        raise ApiProblem(400, "Malformed JSON", "the body nests too deep to read", slug="malformed-json",
                         errors=[("", "nested too deep")]) from None
    if not isinstance(data, dict):
        raise invalid([("", "the body must be a JSON object")])
    problems = document_problems(data)
    if problems:
        raise invalid([(pointer_for_path(path), why) for path, why in problems])
    return data


def unknown_fields(data: dict[str, Any], allowed: set[str], prefix: str = "") -> list[tuple[str, str]]:
    """A problem for every key of ``data`` that is not in ``allowed``."""
    return [(f"{prefix}/{key}", "unknown field") for key in data if key not in allowed]


def all_problems(problems: list[tuple[str, str]], parse: Callable[[], Parsed]) -> Parsed:
    """``parse()``, its field problems reported in one 422 together with ``problems`` already found (unknown
    fields, say), so that no problem hides another."""
    try:
        parsed = parse()
    except RequestProblems as error:
        raise invalid([*problems, *((pointer_for(field), message) for field, message in error.problems)]) from None
    if problems:
        raise invalid(problems)
    return parsed
