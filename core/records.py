"""Reading back records the kernel stored as JSON: every key required, every value of its type.

A record the kernel wrote (an application's approved offer, a loan's contract) is read back by one parser
per record, and that parser never fills a gap. :class:`RecordReader` is what such a parser reads with: it
hands out one key at a time as the type it must have, and a key that is missing or a value that does not
parse raises the record's own :class:`~core.errors.StoredRecordError` subclass naming the key by its path
(``offer.contract.schedule.annual_rate``). A value object's own check (``LoanTerms`` refusing a rate above
100%) is reported the same way through :meth:`RecordReader.build`.

Keys are present with ``null`` where a value is optional (``penalty.daily_rate``): absent is damaged,
``null`` is "none".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from core.errors import InvalidArgumentError, StoredRecordError
from core.money import to_decimal

T = TypeVar("T")


class RecordReader:
    """One stored JSON object, read key by key.

    Args:
        data: the object as stored (``None`` or anything but an object is refused).
        path: where it sits, for error messages and ``field`` (``terms``, ``offer.contract``).
        error: the record's error class.

    Raises:
        StoredRecordError: (``error``) ``data`` is not an object.
    """

    __slots__ = ("data", "error", "path")

    def __init__(self, data: object, path: str, error: type[StoredRecordError]) -> None:
        if not isinstance(data, Mapping):
            raise error(f"{path}: missing, or not an object", field=path, value=data)
        self.data: Mapping[str, object] = data
        self.path = path
        self.error = error

    def where(self, key: str) -> str:
        """The path of ``key``."""
        return f"{self.path}.{key}"

    def refuse(self, key: str, problem: str, value: object = None) -> StoredRecordError:
        """The record's error for ``key`` (to raise)."""
        return self.error(f"{self.where(key)}: {problem}", field=self.where(key), value=value)

    def raw(self, key: str) -> object:
        """The value of ``key`` as stored; ``null`` is a value, absence is not."""
        if key not in self.data:
            raise self.refuse(key, "missing from the stored record")
        return self.data[key]

    def section(self, key: str) -> RecordReader:
        """The object under ``key``."""
        return RecordReader(self.raw(key), self.where(key), self.error)

    def sections(self, key: str) -> tuple[RecordReader, ...]:
        """The objects of the list under ``key``, each read as ``key[i]``."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.refuse(key, f"expected a list of objects, found {value!r}", value)
        return tuple(RecordReader(item, f"{self.where(key)}[{index}]", self.error) for index, item in enumerate(value))

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value:
            raise self.refuse(key, f"expected a non-empty string, found {value!r}", value)
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.raw(key) is None else self.text(key)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.refuse(key, f"expected a list of strings, found {value!r}", value)
        return tuple(value)

    def integer(self, key: str) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.refuse(key, f"expected a whole number, found {value!r}", value)
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.raw(key) is None else self.integer(key)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.refuse(key, f"expected true or false, found {value!r}", value)
        return value

    def decimal(self, key: str) -> Decimal:
        """A number stored as a decimal string (or an int); floats are refused as everywhere."""
        return self.parsed(key, lambda value: to_decimal(value, self.where(key)))

    def optional_decimal(self, key: str) -> Decimal | None:
        return None if self.raw(key) is None else self.decimal(key)

    def day(self, key: str) -> date:
        """A date stored ISO (``2026-01-15``)."""
        return self.parsed(key, lambda value: date.fromisoformat(_string(value)))

    def moment(self, key: str) -> datetime:
        """A time stored ISO with its offset (``2026-01-15T10:00:00+08:00``)."""
        found = self.parsed(key, lambda value: datetime.fromisoformat(_string(value)))
        if found.tzinfo is None:
            raise self.refuse(key, "a stored time must carry its offset", found.isoformat())
        return found

    def optional_moment(self, key: str) -> datetime | None:
        return None if self.raw(key) is None else self.moment(key)

    def parsed(self, key: str, parse: Callable[[object], T]) -> T:
        """``parse`` applied to the value of ``key``; its ``ValueError`` or ``TypeError`` names the key."""
        value = self.raw(key)
        try:
            return parse(value)
        except (ValueError, TypeError) as error:
            raise self.refuse(key, _reason(error), value) from None

    def build(self, make: Callable[[], T], keys: Mapping[str, str] | None = None) -> T:
        """``make()`` (a value object's constructor); an :class:`InvalidArgumentError` naming a field is
        reported as this record's error on the key of that name (the last part of a dotted field, or its
        entry in ``keys`` where the stored key is named otherwise)."""
        try:
            return make()
        except InvalidArgumentError as error:
            field = error.field or ""
            key = (keys or {}).get(field) or field.rsplit(".", 1)[-1]
            raise self.refuse(key, _reason(error), error.value) from None


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO string, found {value!r}")
    return value


def _reason(error: Exception) -> str:
    """The error's words without the field it begins with (the reader names the key itself)."""
    return error.message.split(": ", 1)[-1] if isinstance(error, InvalidArgumentError) else str(error)
