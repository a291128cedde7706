"""A product's ``reminders`` section as a record (the schema's defaults filled in), and the window rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from core.businessday.clock import lender_zone


@dataclass(frozen=True, slots=True)
class MessagePolicy:
    """When a product's borrowers are told about their installments, and how often at most."""

    days_before: int = 3
    overdue_days: tuple[int, ...] = (1, 3, 7)
    daily_cap: int = 3
    window_start: int = 8
    window_end: int = 21

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> MessagePolicy:
        section = document.get("reminders") or {}
        return cls(days_before=int(section.get("days_before", 3)),
                   overdue_days=tuple(int(d) for d in section.get("overdue_days", (1, 3, 7))),
                   daily_cap=int(section.get("daily_cap", 3)), window_start=int(section.get("window_start", 8)),
                   window_end=int(section.get("window_end", 21)))

    def in_window(self, moment: datetime) -> bool:
        """Whether ``moment`` (any offset) falls in the sending hours, the lender's zone."""
        hour = moment.astimezone(lender_zone()).hour
        return self.window_start <= hour < self.window_end

    def next_window(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` inside the window (the next day's opening if past it)."""
        local = moment.astimezone(lender_zone())
        if self.in_window(local):
            return local
        opening = datetime.combine(local.date(), time(self.window_start), lender_zone())
        return opening if local < opening else opening + timedelta(days=1)

    def next_day(self, moment: datetime) -> datetime:
        """The next day's opening of the window (a borrower over the day's cap waits for it)."""
        local = moment.astimezone(lender_zone())
        return datetime.combine(local.date() + timedelta(days=1), time(self.window_start), lender_zone())
