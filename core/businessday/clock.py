"""The lender's business clock: the moment, and the date, in the lender's time zone.

A lender keeps its books on the dates of its own time zone (Asia/Shanghai by default), whatever zone the
servers run in: at 00:14 in Shanghai a UTC server's ``date.today()`` is still yesterday. Every face and
job asks a :class:`BusinessClock` for today, never the operating system; the app builds one from its
configuration (:mod:`loanfactory.clock`: ``BUSINESS_TIMEZONE`` and, for sandboxes and tests, a pinned
``API_BUSINESS_DATE``). Instants are stored in UTC; a clock turns them into the lender's dates. A kernel rule
given only an instant (the application pipeline's ``now``) takes its date in :func:`lender_zone`, the zone
the app set for the process at start: a deployment serves one lender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InvalidArgumentError

#: the lender's zone unless configured otherwise
DEFAULT_ZONE = "Asia/Shanghai"
LENDER_ZONE = ZoneInfo(DEFAULT_ZONE)
#: the deployment's zone: one lender per process, set by the app at start (:func:`set_lender_zone`)
_configured = [LENDER_ZONE]


def set_lender_zone(zone: ZoneInfo) -> None:
    """Make ``zone`` the lender's zone of this process (the app factory calls it with ``BUSINESS_TIMEZONE``)."""
    _configured[0] = zone


def lender_zone() -> ZoneInfo:
    """The lender's zone of this process: what a kernel rule given only an instant takes its date in."""
    return _configured[0]


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


def local_date(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The date of ``moment`` in ``zone`` (default :func:`lender_zone`; a moment without an offset is UTC, as
    SQLite keeps it)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone or lender_zone()).date()


def start_of(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The first instant of ``day`` in ``zone`` (default :func:`lender_zone`), in UTC."""
    return datetime.combine(day, time(0), zone or lender_zone()).astimezone(UTC)


@dataclass(frozen=True)
class BusinessClock:
    """The lender's clock: ``zone`` and, for a sandbox, a ``pinned`` business date."""

    zone: ZoneInfo = field(default_factory=lender_zone)
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
