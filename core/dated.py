"""Dated configuration: of the versions of a setting, the one in force on a date.

Regulatory numbers and lender policies (classification thresholds, non-accrual, provisioning ratios) are
kept as versions, each with an ``effective_from`` date and its ``source``; the version in force on a day is
the one with the latest ``effective_from`` not after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

from core.errors import InvalidArgumentError


class Dated(Protocol):
    """A version of a setting: it applies from ``effective_from``."""

    @property
    def effective_from(self) -> date: ...


T = TypeVar("T", bound=Dated)


def in_force(versions: Sequence[T], on: date, field: str) -> T:
    """The version in force on ``on``.

    Raises:
        InvalidArgumentError: none is in force yet (``field`` names the setting).
    """
    found = [v for v in versions if v.effective_from <= on]
    if not found:
        raise InvalidArgumentError(f"{field}: no policy in force on {on}", field=field, value=on)
    return max(found, key=lambda v: v.effective_from)
