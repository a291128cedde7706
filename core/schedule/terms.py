"""What a schedule is built from: the loan's terms, validated once.

:class:`LoanTerms` gathers the inputs of every repayment method and refuses, with an
:class:`~core.errors.InvalidArgumentError` naming the argument, anything a schedule cannot be built from.
The enums' values are the names used in product JSON, the API and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import NoReturn, TypeVar

from core.daycount import DayCount
from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import DEFAULT_ROUNDING, FEN, Rounding, money_precision

E = TypeVar("E", bound=Enum)

MAX_PERIODS = 600
MAX_DAYS = 3660
MAX_AMOUNT_DIGITS = 15
NO_FEE = Decimal("0.00")


class Method(StrEnum):
    """Repayment method."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
    BULLET = "bullet"  # 到期还本付息 / 利随本清


class Frequency(StrEnum):
    """How often installments fall due; ``daily`` means the term counts days (bullet loans only)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def periods_per_year(self) -> int:
        """Whole periods in a year: 12 monthly, 52 weekly, 26 bi-weekly, 4 quarterly, 365 for days."""
        return _PERIODS_PER_YEAR[self]

    @property
    def months(self) -> int:
        """Months in one period (0 for day-based frequencies)."""
        return _MONTHS.get(self, 0)

    @property
    def days(self) -> int:
        """Days in one period for day-based frequencies (0 for month-based ones)."""
        return _DAYS.get(self, 0)


_PERIODS_PER_YEAR = {
    Frequency.DAILY: 365,
    Frequency.WEEKLY: 52,
    Frequency.BIWEEKLY: 26,
    Frequency.MONTHLY: 12,
    Frequency.QUARTERLY: 4,
}
_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}
_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14}


class DueDayRule(StrEnum):
    """When installments fall due.

    ``same_day``: monthly and quarterly installments fall on the disbursement's day of month (clamped to
    the month's last day), weekly and bi-weekly ones every 7 or 14 days from disbursement.
    ``fixed_day``: on a set ``repayment_day``: a day of month (1-31, clamped) for monthly and quarterly
    loans, an ISO weekday (1 = Monday ... 7 = Sunday) for weekly and bi-weekly ones; the first period is
    then irregular and shaped by :class:`FirstPeriod`.
    """

    SAME_DAY = "same_day"
    FIXED_DAY = "fixed_day"


class FirstPeriod(StrEnum):
    """How a fixed repayment day shapes the irregular first period.

    ``actual_days``: the first installment falls due on the first repayment day after the point one
    period less one month (one week for weekly and bi-weekly terms) after disbursement; for a monthly
    loan simply the first repayment day after disbursement. Unless that is exactly one whole period, the
    first period's interest is counted on its actual days by the day-count convention.
    ``extra_days``: the first installment falls due one whole period after the first repayment day on or
    after disbursement; its interest is a regular period's plus the extra days' by the day count.
    """

    ACTUAL_DAYS = "actual_days"
    EXTRA_DAYS = "extra_days"


class GraceType(StrEnum):
    """``interest_only``: grace periods pay interest only; ``capitalised``: they pay nothing and their
    interest is added to the principal."""

    INTEREST_ONLY = "interest_only"
    CAPITALISED = "capitalised"


class RescheduleMode(StrEnum):
    """After a partial prepayment: ``keep_term`` lowers the installment, ``keep_installment`` shortens
    the term."""

    KEEP_TERM = "keep_term"
    KEEP_INSTALLMENT = "keep_installment"


def parse_enum(kind: type[E], value: object, field_name: str) -> E:
    """Return the member of ``kind`` named ``value`` (case aside), or raise an error naming ``field_name``."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        for member in kind:
            if isinstance(value, str) and str(member.value).lower() == value.strip().lower():
                return member
        names = ", ".join(str(m.value) for m in kind)
        raise InvalidArgumentError(
            f"{field_name}: unknown value {value!r}; expected one of {names}", field=field_name, value=value
        ) from None


def _refuse(name: str, message: str, value: object) -> NoReturn:
    raise InvalidArgumentError(f"{name}: {message} (got {value})", field=name, value=value)


def _whole_fen(value: object, name: str) -> Decimal:
    """``value`` as a Decimal with exactly two places; refused unless it is whole fen below 10^15."""
    amount = to_decimal(value, name)
    if amount.adjusted() >= MAX_AMOUNT_DIGITS:
        _refuse(name, f"must be less than 10^{MAX_AMOUNT_DIGITS}", amount)
    fen = amount.quantize(FEN)
    if fen != amount:
        _refuse(name, "must be a whole number of fen (0.01)", amount)
    return fen


def _check_count(name: str, value: object, low: int, high: int, what: str = "a whole number") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        _refuse(name, f"must be {what} from {low} to {high}", value)


@dataclass(frozen=True)
class LoanTerms:
    """The validated inputs of a repayment schedule.

    Args:
        principal: the amount paid out (never reduced by fees), > 0.
        annual_rate: the nominal annual rate as a fraction (0.049 for 4.9%), 0 to 1.
        periods: the number of installments (days for a ``daily`` bullet), >= 1.
        start_date: the disbursement date; interest runs from it.
        method, frequency, day_count, due_day_rule, first_period, grace_type, rounding: see the enums.
        repayment_day: with ``due_day_rule`` ``fixed_day``: the day of month (1-31) for monthly and
            quarterly loans, the ISO weekday (1-7) for weekly and bi-weekly ones.
        grace_periods: leading periods without principal (fewer than ``periods``).
        fee_per_period: a fixed fee (whole fen) added to every installment that has a payment.
        upfront_fee: paid by the borrower at disbursement (counts toward the APR), never deducted from
            the principal; whole fen, less than the principal.

    Raises:
        InvalidArgumentError: any argument out of range; the error's ``field`` names it.
    """

    principal: Decimal
    annual_rate: Decimal
    periods: int
    start_date: date
    method: Method = Method.EQUAL_INSTALLMENT
    frequency: Frequency = Frequency.MONTHLY
    day_count: DayCount = DayCount.ACT_360
    due_day_rule: DueDayRule = DueDayRule.SAME_DAY
    repayment_day: int | None = None
    first_period: FirstPeriod = FirstPeriod.ACTUAL_DAYS
    grace_periods: int = 0
    grace_type: GraceType = GraceType.INTEREST_ONLY
    fee_per_period: Decimal = NO_FEE
    upfront_fee: Decimal = NO_FEE
    rounding: Rounding = DEFAULT_ROUNDING

    @money_precision
    def __post_init__(self) -> None:
        put = object.__setattr__
        for name in _MONEY_FIELDS:
            value = getattr(self, name)
            if value is not NO_FEE:  # the default needs no checking (saves time on the hot path)
                put(self, name, _whole_fen(value, name))
        put(self, "annual_rate", to_decimal(self.annual_rate, "annual_rate"))
        for name, kind in _ENUM_FIELDS:
            value = getattr(self, name)
            if value.__class__ is not kind:
                put(self, name, parse_enum(kind, value, name))
        self._check_ranges()

    def _check_ranges(self) -> None:
        if self.principal <= 0:
            _refuse("principal", "must be greater than 0", self.principal)
        if not 0 <= self.annual_rate <= 1:
            _refuse("annual_rate", "must be between 0 and 1 (0% to 100%)", self.annual_rate)
        daily = self.frequency is Frequency.DAILY
        _check_count("periods", self.periods, 1, MAX_DAYS if daily else MAX_PERIODS)
        if self.start_date.__class__ is not date:
            _refuse("start_date", "must be a date (not a datetime, not a string)", self.start_date)
        if self.fee_per_period < 0:
            _refuse("fee_per_period", "must not be negative", self.fee_per_period)
        if not 0 <= self.upfront_fee < self.principal:
            _refuse("upfront_fee", "must be at least 0 and less than the principal", self.upfront_fee)
        if daily and self.method is not Method.BULLET:
            _refuse("frequency", "daily terms are only for the bullet method", self.frequency.value)
        if self.due_day_rule is DueDayRule.FIXED_DAY:
            if daily:
                _refuse("due_day_rule", "a daily bullet has no repayment day", self.due_day_rule.value)
            if self.frequency.days:
                _check_count("repayment_day", self.repayment_day, 1, 7, "an ISO weekday (1 = Monday, 7 = Sunday)")
            else:
                _check_count("repayment_day", self.repayment_day, 1, 31, "a day of month")
        _check_count("grace_periods", self.grace_periods, 0, self.periods - 1)
        if self.grace_periods and self.method in (Method.BULLET, Method.INTEREST_ONLY):
            _refuse("grace_periods", f"make no sense for the {self.method.value} method", self.grace_periods)

    @property
    def period_rate(self) -> Decimal:
        """The rate of one whole period: annual / periods per year (annual / 12 for months)."""
        return self.annual_rate / _PERIODS_PER_YEAR[self.frequency]


_MONEY_FIELDS = ("principal", "fee_per_period", "upfront_fee")
_ENUM_FIELDS: tuple[tuple[str, type[Enum]], ...] = (
    ("method", Method),
    ("frequency", Frequency),
    ("day_count", DayCount),
    ("due_day_rule", DueDayRule),
    ("first_period", FirstPeriod),
    ("grace_type", GraceType),
    ("rounding", Rounding),
)
