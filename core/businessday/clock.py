"""The lender's business clock: the moment, and the date, in the lender's time zone.

A lender keeps its books on the dates of its own time zone (Asia/Shanghai by default), whatever zone the
servers run in: at 00:14 in Shanghai a UTC server's ``date.today()`` is still yesterday. Every face and
job asks a :class:`BusinessClock` for today, never the operating system; the app builds one from its
configuration (:mod:`loanfactory.clock`: ``BUSINESS_TIMEZONE`` and, for sandboxes and tests, a pinned
``API_BUSINESS_DATE``). Instants are stored in UTC; a clock turns them into the lender's dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InvalidArgumentError

#: the lender's zone unless configured otherwise
DEFAULT_ZONE = "Asia/Shanghai"
LENDER_ZONE = ZoneInfo(DEFAULT_ZONE)


def zone_named(name: str, field: str = "BUSINESS_TIMEZONE") -> ZoneInfo:
    """The IANA zone ``name``.

    Raises:
        InvalidArgumentError: no such zone (naming ``field``).
    """
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidArgumentError(f"{field}: {name!r} is not an IANA time zone (say Asia/Shanghai)",
                                   field=field, value=name) from exc


def local_date(moment: datetime, zone: ZoneInfo = LENDER_ZONE) -> date:
    """The date of ``moment`` in ``zone`` (a moment without an offset is UTC, as SQLite keeps it)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def start_of(day: date, zone: ZoneInfo = LENDER_ZONE) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


@dataclass(frozen=True)
class BusinessClock:
    """The lender's clock: ``zone`` and, for a sandbox, a ``pinned`` business date."""

    zone: ZoneInfo = LENDER_ZONE
    pinned: date | None = None

    def now(self) -> datetime:
        """The current moment in the lender's zone (aware; compare and store it as any instant)."""
        return datetime.now(UTC).astimezone(self.zone)

    def today(self) -> date:
        """The business date: the pinned date, else today in the lender's zone."""
        return self.pinned or self.now().date()

    def date_of(self, moment: datetime) -> date:
        """The lender's date of ``moment``."""
        return local_date(moment, self.zone)

    def start_of(self, day: date) -> datetime:
        """The first instant (UTC) of the lender's ``day``."""
        return start_of(day, self.zone)
