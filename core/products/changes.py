"""What differs between two product versions, and what a version still carries.

:func:`diff_documents` walks two product documents together and lists every field that was added,
removed or changed, by JSON pointer, with its value before and after; lists are compared position by
position (a fee inserted first shows as changes to every following fee, which is what a reviewer reading
the document top to bottom sees). :func:`impact` counts the live applications and loans booked on a
version, the figure a product manager checks before pausing or retiring it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


def diff_documents(before: Any, after: Any) -> list[Change]:
    """Every difference from ``before`` to ``after``, in document order (decimals compared exactly)."""
    return list(_walk(canonical(before), canonical(after), ()))


def _walk(before: Any, after: Any, path: tuple[str | int, ...]) -> list[Change]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[Change] = []
        for key in [*before, *(k for k in after if k not in before)]:
            if key not in after:
                changes.append(Change(pointer(*path, key), "removed", before=before[key]))
            elif key not in before:
                changes.append(Change(pointer(*path, key), "added", after=after[key]))
            else:
                changes += _walk(before[key], after[key], (*path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            if index >= len(after):
                changes.append(Change(pointer(*path, index), "removed", before=before[index]))
            elif index >= len(before):
                changes.append(Change(pointer(*path, index), "added", after=after[index]))
            else:
                changes += _walk(before[index], after[index], (*path, index))
        return changes
    if before != after or type(before) is not type(after):
        return [Change(pointer(*path), "changed", before=before, after=after)]
    return []


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
