"""What a person or a channel may send, whatever the face: text a database can store, and calendar dates.

Text must be storable as it stands: UTF-8 cannot encode a lone surrogate (JSON's ``"\\ud800"`` decodes to
one), and PostgreSQL's text and JSON types hold no NUL character. :func:`text_problem` says why a string is
refused; :func:`document_problems` checks every key and string of a decoded JSON document, iteratively
(a document nested deeper than :data:`MAX_DEPTH` is refused whole), so one check at the door keeps such
text out of every column.

Dates are ISO 8601 calendar dates written ``YYYY-MM-DD`` in ASCII digits, and date-times RFC 3339 with
their offset (``2026-03-02T10:00:00+08:00`` or ``Z``): Python's own parser also reads ``20260302``,
``2026-W10-1`` and naive times, which the API does not document. Both lie within :data:`FIRST_DATE` ..
:data:`LAST_DATE`: a loan's dates fall there, and a date such as 9999-12-31 would overflow the first
schedule or calendar computed from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.errors import FieldProblems, InputError
from core.money import MoneyInputError, parse_money

#: the first and the last date a request may name
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)
#: how deep a request document may nest objects and arrays
MAX_DEPTH = 32

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})",
                       re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``."""
    if "\x00" in value:
        return "must not contain a NUL character"
    if _SURROGATE.search(value):
        return "must be valid Unicode (a lone surrogate is not)"
    return None


def document_problems(document: Any) -> list[tuple[tuple[str, ...], str]]:
    """Every key or string of a decoded JSON ``document`` that cannot be stored, as ``(path, why)`` (the path's
    parts are keys and array indexes as text); the document itself (``()``) when it nests deeper than
    :data:`MAX_DEPTH`."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for path, value in _walk(document):
        if len(path) > MAX_DEPTH:
            return [((), f"must not nest deeper than {MAX_DEPTH} levels")]
        if isinstance(value, str):
            why = text_problem(value)
            if why is not None:
                problems.append((path, why))
    return problems


def _walk(document: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each value of ``document`` with its path, keys as values of their own path; depth first, no recursion."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                yield (*path, key), key
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), item) for index, item in reversed(list(enumerate(value))))


def parse_text(value: object, field: str, max_length: int) -> str:
    """Non-empty text of at most ``max_length`` characters, stripped, that a database can store.

    Raises:
        InputError: naming ``field``.
    """
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{field}: must be a non-empty string", field=field, value=value)
    if len(value) > max_length:
        raise InputError(f"{field}: must be at most {max_length} characters", field=field, value=value)
    why = text_problem(value)
    if why is not None:
        raise InputError(f"{field}: {why}", field=field, value=value)
    return value.strip()


def _in_range(day: date, field: str, value: object) -> None:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InputError(f"{field}: must be from {FIRST_DATE} to {LAST_DATE}", field=field, value=value)


def parse_date(value: object, field: str) -> date:
    """A calendar date written ``YYYY-MM-DD``, from :data:`FIRST_DATE` to :data:`LAST_DATE`.

    Raises:
        InputError: naming ``field``.
    """
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InputError(f"{field}: must be a date as YYYY-MM-DD", field=field, value=value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: {value} is not a date that exists", field=field, value=value) from None
    _in_range(day, field, value)
    return day


def parse_datetime(value: object, field: str) -> datetime:
    """An RFC 3339 date-time with its offset (``2026-03-02T10:00:00+08:00``), its date within
    :data:`FIRST_DATE` .. :data:`LAST_DATE`.

    Raises:
        InputError: naming ``field``.
    """
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise InputError(f"{field}: must be an ISO 8601 date-time with its offset, such as "
                         "2026-03-02T10:00:00+08:00", field=field, value=value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: {value} is not a time that exists", field=field, value=value) from None
    _in_range(moment.date(), field, value)
    return moment


class FieldChecker:
    """Collects every problem of a request document as ``(dotted field, message)`` rather than stopping at the
    first: each reader returns the checked value or ``None`` after noting why. :meth:`raise_problems` raises
    :class:`~core.errors.FieldProblems` (or the subclass given) when any was found."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def raise_problems(self, error: type[FieldProblems] = FieldProblems) -> None:
        """Raise ``error`` listing every problem noted, if any."""
        if self.problems:
            raise error(self.problems)

    def bad(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def unknown(self, data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in data:
            if key not in allowed:
                self.bad(f"{prefix}{key}", "unknown field")

    def text(self, data: Mapping[str, Any], key: str, prefix: str, *, required: bool, max_length: int) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.bad(prefix + key, "is required")
            return None
        try:
            return parse_text(value, key, max_length)
        except InputError as error:
            self.bad(prefix + key, error.reason)
            return None

    def money(self, data: Mapping[str, Any], key: str, prefix: str, *, required: bool,
              allow_zero: bool = True) -> Decimal | None:
        if key not in data or data[key] is None:
            if required:
                self.bad(prefix + key, "is required")
            return None
        try:
            return parse_money(data[key], key, positive=not allow_zero)
        except MoneyInputError as error:
            self.bad(prefix + key, error.reason)
            return None

    def choice(self, data: Mapping[str, Any], key: str, prefix: str, options: tuple[str, ...]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if value not in options:
            self.bad(prefix + key, f"must be one of {', '.join(options)}")
            return None
        return str(value)
