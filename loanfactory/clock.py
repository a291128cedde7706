"""The business date the faces work on: real time in Asia/Shanghai, or a fixed date for sandboxes and tests.

``API_BUSINESS_DATE`` (an ISO date) pins the business date a sandbox deployment (or a test that walks a
loan through months of end-of-day) works on; unset, it is today in Asia/Shanghai. The API and the admin
read the same clock, so a repayment a channel sends and one an operator records are held to the same
today (:func:`core.loans.context.check_value_date`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The business date requests are booked on."""
    pinned = current_app.config.get("API_BUSINESS_DATE")
    if pinned:
        return pinned if isinstance(pinned, date) else date.fromisoformat(str(pinned))
    return datetime.now(SHANGHAI).date()


def now() -> datetime:
    """The current moment (UTC)."""
    return datetime.now(UTC)
