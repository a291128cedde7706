"""Reading request bodies: JSON objects, numbers read as exact decimals, fields checked by pointer."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import request

from api.problems import ApiProblem, invalid


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
    if not isinstance(data, dict):
        raise invalid([("", "the body must be a JSON object")])
    return data


def unknown_fields(data: dict[str, Any], allowed: set[str], prefix: str = "") -> list[tuple[str, str]]:
    """A problem for every key of ``data`` that is not in ``allowed``."""
    return [(f"{prefix}/{key}", "unknown field") for key in data if key not in allowed]
