"""The app's business clock (:class:`core.businessday.clock.BusinessClock`), which every face and job reads.

``BUSINESS_TIMEZONE`` (an IANA zone, default ``Asia/Shanghai``) is the lender's zone: today is today there,
whatever zone the server runs in. ``API_BUSINESS_DATE`` (an ISO date) pins the business date a sandbox
deployment (or a test that walks a loan through months of end-of-day) works on. Both are read on each call,
so a test may change them on a running app. The API, the admin, the command line (a command without an app
reads the environment) and the Celery tasks read the same clock, so a quote, a booking and an operator's
repayment are held to the same today (:func:`core.loans.context.check_value_date`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

from core.businessday.clock import DEFAULT_ZONE, LENDER_ZONE, BusinessClock, set_lender_zone, zone_named
from core.errors import InvalidArgumentError
from loanfactory.config import load_config

ZONE_KEY = "BUSINESS_TIMEZONE"
PINNED_KEY = "API_BUSINESS_DATE"
#: the default zone (configured zones come from :func:`zone`)
SHANGHAI = LENDER_ZONE


def _pinned(value: object) -> date | None:
    if not value:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidArgumentError(f"{PINNED_KEY}: {value!r} is not a date (YYYY-MM-DD)", field=PINNED_KEY,
                                   value=value) from exc


def init_app(app: Flask) -> None:
    """Fill in the default zone, check both settings (:class:`InvalidArgumentError` naming the key) and make the
    zone the process's lender zone (:func:`core.businessday.clock.set_lender_zone`)."""
    app.config.setdefault(ZONE_KEY, DEFAULT_ZONE)
    app.config.setdefault(PINNED_KEY, None)
    set_lender_zone(clock_of(app).zone)


def clock_of(app: Flask | None = None) -> BusinessClock:
    """The clock of ``app`` (default: the current app; outside one, the configuration from the environment,
    :func:`loanfactory.config.load_config`, as a command without an app reads it)."""
    config = (app or current_app).config if app is not None or has_app_context() else load_config()
    return BusinessClock(zone_named(config.get(ZONE_KEY) or DEFAULT_ZONE, ZONE_KEY), _pinned(config.get(PINNED_KEY)))


def today() -> date:
    """The business date requests and jobs are booked on."""
    return clock_of().today()


def zone() -> ZoneInfo:
    """The lender's configured time zone."""
    return clock_of().zone


def now() -> datetime:
    """The current moment (UTC)."""
    return datetime.now(UTC)
