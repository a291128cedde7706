"""The app's JSON provider (``app.json``): Flask's :class:`~flask.json.provider.DefaultJSONProvider`, writing with
orjson.

Encoding a response is a measurable share of a channel request's CPU, and orjson writes a quote's or an
application's response about five times faster than :func:`json.dumps`. The output means what Flask's does:
keys sorted (``sort_keys``), Flask's ``default`` for what JSON has no type for (dates and datetimes as HTTP
dates, as orjson is told to pass them through, Decimal as its text, a dataclass through
:func:`dataclasses.asdict`, passed through too, as orjson would write its fields itself, leaving out those named
``_...``, and keys unsorted). Formatting may differ, never the data: no spaces after ``,`` and ``:`` where
:func:`json.dumps` writes them (``response()`` stays compact out of debug and indented by 2 in it), and
non-ASCII characters written as UTF-8 rather than ``\\u`` escapes (the responses are ``application/json``,
UTF-8 by RFC 8259).

Calls orjson has no option for (``ensure_ascii=True``, an indent other than 2, other separators, ``cls``...)
and values it refuses go to :class:`DefaultJSONProvider` unchanged, so they are written, or refused, exactly as
before: a key that is not a string (``json.dumps`` writes an int, float, bool or None key as text, and
``sort_keys`` orders them before; orjson's ``OPT_NON_STR_KEYS`` would accept more, and costs every response a
fifth of its encoding), an integer beyond 64 bits, a string with a lone surrogate, more than 254 levels, and
whatever ``default`` raises for. orjson accepts a little more than :func:`json.dumps`: an enum (its value),
and a float's NaN and infinities, written ``null`` where :func:`json.dumps` wrote ``NaN`` tokens no JSON parser
accepts. Reading is the standard library's, unchanged (API bodies are parsed by ``api.body`` with Decimal
floats, not here). Jinja's ``tojson`` in the admin's templates writes through it too (``tojson(indent=1)`` by
the standard library).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_ALWAYS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_COMPACT = (",", ":")


class OrjsonProvider(DefaultJSONProvider):
    """:class:`DefaultJSONProvider` (its ``default``, ``sort_keys``, ``compact``, ``mimetype``, ``response`` and
    ``loads``) whose ``dumps`` writes with orjson where it writes the same data."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``obj`` as JSON text; ``kwargs`` as for :func:`json.dumps` (see the module's docstring)."""
        option = self._option(kwargs)
        if option is not None:
            try:
                return orjson.dumps(obj, default=kwargs.get("default", self.default), option=option).decode()
            except orjson.JSONEncodeError:
                pass  # written, or refused, by json.dumps as Flask would
        return super().dumps(obj, **kwargs)

    def _option(self, kwargs: dict[str, Any]) -> int | None:
        """orjson's options for :func:`json.dumps`'s ``kwargs``, or ``None`` when orjson cannot write the same."""
        option = _ALWAYS
        for key, value in kwargs.items():
            if key == "indent" and value == 2:
                option |= orjson.OPT_INDENT_2
            elif (key == "indent" and value is None) or (key == "separators" and value in (_COMPACT, None)):
                pass  # spacing only
            elif not (key in ("default", "sort_keys") or (key == "ensure_ascii" and not value)):
                return None
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        return option
