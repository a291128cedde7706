"""What differs between two product versions, and what a version still carries.

:func:`diff_documents` walks two product documents together and lists every field that was added,
removed or changed, by JSON pointer, with its value before and after. The comparison is by meaning, not
by text: numbers are equal when their values are (``"0.1400"`` is ``"0.14"``); a list of plain values is
a set (removing term 3 and adding 36 is two changes, not a shift of every later position); a list of
objects pairs its items by their identifying key (``code``, ``name``, ``type``, ``event``, ``role``)
when every item has a distinct one, else by position; the editor's ``$schema`` reference is not part of
the product. :func:`impact` counts the live applications and loans booked on a
version, the figure a product manager checks before pausing or retiring it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.loans.models import Loan
from core.products.models import ProductVersion, canonical
from core.products.problems import pointer
from core.states import APPLICATION_STATES

#: loan states in which a loan is still being serviced
LIVE_LOAN_STATES = ("active", "overdue")


@dataclass(frozen=True)
class Change:
    """One field-level difference; ``kind`` is ``added``, ``removed`` or ``changed``."""

    pointer: str
    kind: str
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"pointer": self.pointer, "kind": self.kind, "before": self.before, "after": self.after}


#: keys that name an item of a list of objects, tried in this order
IDENTITY_KEYS = ("code", "name", "type", "event", "role")
#: members that are not part of the product
IGNORED = frozenset({"$schema"})


def diff_documents(before: Any, after: Any) -> list[Change]:
    """Every difference from ``before`` to ``after``, in document order (decimals compared by value)."""
    return list(_walk(canonical(before), canonical(after), ()))


def _walk(before: Any, after: Any, path: tuple[str | int, ...]) -> list[Change]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[Change] = []
        for key in [*before, *(k for k in after if k not in before)]:
            if not path and key in IGNORED:
                continue
            if key not in after:
                changes.append(Change(pointer(*path, key), "removed", before=before[key]))
            elif key not in before:
                changes.append(Change(pointer(*path, key), "added", after=after[key]))
            else:
                changes += _walk(before[key], after[key], (*path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        return _walk_list(before, after, path)
    if not _same(before, after):
        return [Change(pointer(*path), "changed", before=before, after=after)]
    return []


def _walk_list(before: list[Any], after: list[Any], path: tuple[str | int, ...]) -> list[Change]:
    if all(not isinstance(item, (Mapping, list)) for item in [*before, *after]):
        gone = [item for item in before if not any(_same(item, other) for other in after)]
        new = [item for item in after if not any(_same(item, other) for other in before)]
        changes = [Change(pointer(*path), "removed", before=item) for item in gone]
        changes += [Change(pointer(*path), "added", after=item) for item in new]
        if not changes and not all(_same(old, now) for old, now in zip(before, after, strict=False)):
            changes.append(Change(pointer(*path), "changed", before=before, after=after))  # same items, new order
        return changes
    key = _identity(before, after)
    if key is None:
        changes = []
        for index in range(max(len(before), len(after))):
            if index >= len(after):
                changes.append(Change(pointer(*path, index), "removed", before=before[index]))
            elif index >= len(before):
                changes.append(Change(pointer(*path, index), "added", after=after[index]))
            else:
                changes += _walk(before[index], after[index], (*path, index))
        return changes
    olds = {item[key]: (index, item) for index, item in enumerate(before)}
    changes = []
    for index, item in enumerate(after):
        if item[key] in olds:
            changes += _walk(olds[item[key]][1], item, (*path, index))
        else:
            changes.append(Change(pointer(*path, index), "added", after=item))
    news = {item[key] for item in after}
    changes += [Change(pointer(*path, index), "removed", before=item) for index, item in enumerate(before)
                if item[key] not in news]
    return changes


def _identity(before: list[Any], after: list[Any]) -> str | None:
    """The key that names every item of both lists distinctly, if there is one."""
    for key in IDENTITY_KEYS:
        for items in (before, after):
            if not all(isinstance(i, Mapping) and isinstance(i.get(key), (str, int)) for i in items):
                break
            if len({str(i[key]) for i in items}) != len(items):
                break
        else:
            return key
    return None


def _same(before: Any, after: Any) -> bool:
    """Equal in meaning: numbers (or their exact text) by value, anything else as it is."""
    if before == after and type(before) is type(after):
        return True
    numbers = [_number(value) for value in (before, after)]
    return None not in numbers and numbers[0] == numbers[1]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def diff_versions(older: ProductVersion, newer: ProductVersion) -> list[Change]:
    """The field-level differences between two versions' documents."""
    return diff_documents(older.document, newer.document)


@dataclass(frozen=True)
class Impact:
    """Live business booked on one version."""

    version_id: int
    applications: int
    loans: int

    def as_dict(self) -> dict[str, int]:
        return {"version_id": self.version_id, "applications": self.applications, "loans": self.loans}


def impact(session: Session, version: ProductVersion) -> Impact:
    """Applications still in progress and loans still serviced on ``version``.

    An application is live until it ends (rejected, cancelled, expired, or disbursed into a loan); a
    loan is live while active or overdue.
    """
    finished = sorted(APPLICATION_STATES.terminal)
    applications = session.scalar(select(func.count()).select_from(Application).where(
        Application.product_version_id == version.id, Application.state.not_in(finished)))
    loans = session.scalar(select(func.count()).select_from(Loan).where(
        Loan.product_version_id == version.id, Loan.state.in_(LIVE_LOAN_STATES)))
    return Impact(version.id, int(applications or 0), int(loans or 0))
