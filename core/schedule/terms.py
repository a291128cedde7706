"""What a schedule is built from: the loan's terms, validated once.

:class:`LoanTerms` gathers the inputs of every repayment method and refuses, with an
:class:`~core.errors.InvalidArgumentError` naming the argument, anything a schedule cannot be built from.
The enums' values are the names used in product JSON, the API and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TypeVar

from core.daycount import DayCount
from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.rounding import DEFAULT_ROUNDING, Rounding

E = TypeVar("E", bound=Enum)

MAX_PERIODS = 600
MAX_DAYS = 3660


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
        return {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}.get(self, 0)

    @property
    def days(self) -> int:
        """Days in one period for day-based frequencies (0 for month-based ones)."""
        return {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14}.get(self, 0)


_PERIODS_PER_YEAR = {
    Frequency.DAILY: 365,
    Frequency.WEEKLY: 52,
    Frequency.BIWEEKLY: 26,
    Frequency.MONTHLY: 12,
    Frequency.QUARTERLY: 4,
}


class DueDayRule(StrEnum):
    """``same_day``: the disbursement's day of month (clamped to month end); ``fixed_day``: a set day."""

    SAME_DAY = "same_day"
    FIXED_DAY = "fixed_day"


class FirstPeriod(StrEnum):
    """How a fixed repayment day shapes the irregular first period.

    ``actual_days``: the first installment falls due on the first repayment day after disbursement and
    its interest is counted on the actual days by the day-count convention.
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
    """Return the member of ``kind`` named ``value``, or raise an error naming ``field_name``."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(m.value) for m in kind)
        raise InvalidArgumentError(
            f"{field_name}: unknown value {value!r}; expected one of {names}", field=field_name, value=value
        ) from None


@dataclass(frozen=True)
class LoanTerms:
    """The validated inputs of a repayment schedule.

    Args:
        principal: the amount paid out (never reduced by fees), > 0.
        annual_rate: the nominal annual rate as a fraction (0.049 for 4.9%), 0 to 1.
        periods: the number of installments (days for a ``daily`` bullet), >= 1.
        start_date: the disbursement date; interest runs from it.
        method, frequency, day_count, due_day_rule, first_period, grace_type, rounding: see the enums.
        repayment_day: the fixed day of month (1-31) when ``due_day_rule`` is ``fixed_day``.
        grace_periods: leading periods without principal (fewer than ``periods``).
        fee_per_period: a fixed fee added to every installment that has a payment.
        upfront_fee: paid by the borrower at disbursement (counts toward the APR), never deducted.

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
    fee_per_period: Decimal = field(default=Decimal(0))
    upfront_fee: Decimal = field(default=Decimal(0))
    rounding: Rounding = DEFAULT_ROUNDING

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "principal", to_decimal(self.principal, "principal"))
        put(self, "annual_rate", to_decimal(self.annual_rate, "annual_rate"))
        put(self, "fee_per_period", to_decimal(self.fee_per_period, "fee_per_period"))
        put(self, "upfront_fee", to_decimal(self.upfront_fee, "upfront_fee"))
        put(self, "method", parse_enum(Method, self.method, "method"))
        put(self, "frequency", parse_enum(Frequency, self.frequency, "frequency"))
        put(self, "day_count", DayCount.parse(self.day_count))
        put(self, "due_day_rule", parse_enum(DueDayRule, self.due_day_rule, "due_day_rule"))
        put(self, "first_period", parse_enum(FirstPeriod, self.first_period, "first_period"))
        put(self, "grace_type", parse_enum(GraceType, self.grace_type, "grace_type"))
        put(self, "rounding", Rounding.parse(self.rounding))
        self._check_ranges()

    def _check_ranges(self) -> None:
        def refuse(name: str, message: str, value: object) -> None:
            raise InvalidArgumentError(f"{name}: {message} (got {value})", field=name, value=value)

        if self.principal <= 0:
            refuse("principal", "must be greater than 0", self.principal)
        if self.principal != self.principal.quantize(Decimal("0.01")):
            refuse("principal", "must be a whole number of fen", self.principal)
        if not 0 <= self.annual_rate <= 1:
            refuse("annual_rate", "must be between 0 and 1 (0% to 100%)", self.annual_rate)
        if isinstance(self.periods, bool) or not isinstance(self.periods, int):
            refuse("periods", "must be a whole number", self.periods)
        limit = MAX_DAYS if self.frequency is Frequency.DAILY else MAX_PERIODS
        if not 1 <= self.periods <= limit:
            refuse("periods", f"must be between 1 and {limit}", self.periods)
        if not isinstance(self.start_date, date):
            refuse("start_date", "must be a date", self.start_date)
        if self.fee_per_period < 0:
            refuse("fee_per_period", "must not be negative", self.fee_per_period)
        if self.upfront_fee < 0:
            refuse("upfront_fee", "must not be negative", self.upfront_fee)
        if self.frequency is Frequency.DAILY and self.method is not Method.BULLET:
            refuse("frequency", "daily terms are only for the bullet method", self.frequency.value)
        if self.due_day_rule is DueDayRule.FIXED_DAY:
            if not self.frequency.months:
                refuse("due_day_rule", "a fixed repayment day needs a monthly or quarterly frequency",
                       self.frequency.value)
            if self.repayment_day is None or not 1 <= self.repayment_day <= 31:
                refuse("repayment_day", "must be a day of month from 1 to 31", self.repayment_day)
        if not 0 <= self.grace_periods < self.periods:
            refuse("grace_periods", "must be at least 0 and fewer than the periods", self.grace_periods)
        if self.grace_periods and self.method in (Method.BULLET, Method.INTEREST_ONLY):
            refuse("grace_periods", f"make no sense for the {self.method.value} method", self.grace_periods)

    @property
    def period_rate(self) -> Decimal:
        """The rate of one whole period: annual / periods per year (annual / 12 for months)."""
        return self.annual_rate / self.frequency.periods_per_year
