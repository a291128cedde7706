"""Helpers for the schedule tests: a schedule's rows as plain strings, easy to compare with a docstring."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.schedule import Schedule

Row = tuple[str, str, str, str, str]


def schedule_rows(schedule: Schedule) -> list[Row]:
    """``(due date, principal, interest, total, remaining principal)`` of every installment, as strings."""
    return [
        (row.due_date.isoformat(), str(row.principal), str(row.interest), str(row.total),
         str(row.remaining_principal))
        for row in schedule.installments
    ]


@pytest.fixture
def rows() -> Callable[[Schedule], list[Row]]:
    """The function :func:`schedule_rows`, for tests that compare whole schedules with worked figures."""
    return schedule_rows
