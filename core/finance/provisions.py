"""Loan-loss provisions (贷款损失准备): how much allowance the book needs on a date, by either method.

Two methods, both read off the book at the end of a day (:func:`core.portfolio.measures.book_on`: each loan's
principal outstanding, 1303, with its days past due, bucket and five-tier class rebuilt at that day):

* **five-tier** (贷款损失准备计提指引, 银发〔2002〕98号): a *specific* provision of each class's principal at
  the class's ratio (default 关注 2%, 次级 25%, 可疑 50%, 损失 100%, 正常 0) plus a *general reserve* of
  all principal at its ratio (default 1%);
* **expected credit loss** (CAS 22 / IFRS 9, three stages): stage 1 up to ``stage2_after_days`` past due,
  stage 2 up to ``stage3_after_days``, stage 3 beyond; ECL = PD × LGD × EAD per bucket, with EAD the
  principal times ``ead_ratio``, LGD a policy setting and PD from the book's own roll rates
  (:func:`flow_pd`): the average, over the last ``lookback_months`` month ends, of the share of loans in a
  bucket that are in the next bucket a month later (count-based net flow rates); a bucket's PD is the
  product of the rates from it to M4 (more than 90 days past due, default), 1 from M4 on. The chain from M0
  reaches default within four months, so it serves as the 12-month PD of stage 1 and as the lifetime PD of
  stage 2 for the book's loans of a year or less; stage 3 is in default (PD 1).

Every figure is exact: each line's amount is rounded to the fen half up (:func:`core.rounding.round_money`)
and the total is the sum of the lines. Every ratio and setting is dated configuration
(:class:`ProvisionPolicy`); the policy in force on the date decides, and its ``method`` is the one the
lender books (:mod:`core.finance.provision_posting`); a report shows both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from core.dated import in_force
from core.errors import InvalidArgumentError
from core.loans.models import FiveTier
from core.portfolio.measures import BUCKETS, Portfolio
from core.rounding import Rounding, round_money

ZERO, ONE = Decimal(0), Decimal(1)
METHODS = ("five_tier", "ecl")
DEFAULT_SPECIFIC: Mapping[FiveTier, Decimal] = {
    FiveTier.NORMAL: ZERO, FiveTier.SPECIAL_MENTION: Decimal("0.02"), FiveTier.SUBSTANDARD: Decimal("0.25"),
    FiveTier.DOUBTFUL: Decimal("0.50"), FiveTier.LOSS: ONE}
#: the bucket from which a loan is in default (more than 90 days past due)
DEFAULT_BUCKET = "M4"


def _fraction(name: str, value: Decimal) -> None:
    if not ZERO <= value <= ONE:
        raise InvalidArgumentError(f"provisioning.{name}: must be between 0 and 1 (got {value})",
                                   field=f"provisioning.{name}", value=value)


@dataclass(frozen=True)
class ProvisionPolicy:
    """The provisioning settings in force from ``effective_from`` (module docstring for each).

    Raises:
        InvalidArgumentError: an unknown method, a ratio outside 0..1, stages not increasing (field
            ``provisioning.<setting>``).
    """

    effective_from: date
    source: str
    method: str = "five_tier"
    specific: Mapping[FiveTier, Decimal] = field(default_factory=lambda: dict(DEFAULT_SPECIFIC))
    general: Decimal = Decimal("0.01")
    lgd: Decimal = Decimal("0.75")
    ead_ratio: Decimal = ONE
    stage2_after_days: int = 30
    stage3_after_days: int = 90
    lookback_months: int = 6

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidArgumentError(f"provisioning.method: one of {', '.join(METHODS)} (got {self.method!r})",
                                       field="provisioning.method", value=self.method)
        if set(self.specific) != set(FiveTier):
            raise InvalidArgumentError("provisioning.specific: a ratio for each of the five classes is needed",
                                       field="provisioning.specific", value=sorted(self.specific))
        for tier, value in self.specific.items():
            _fraction(f"specific.{tier.value}", value)
        for name in ("general", "lgd", "ead_ratio"):
            _fraction(name, getattr(self, name))
        if not 0 <= self.stage2_after_days < self.stage3_after_days or self.lookback_months < 1:
            raise InvalidArgumentError("provisioning.stages: need 0 <= stage2_after_days < stage3_after_days and "
                                       "lookback_months >= 1", field="provisioning.stages",
                                       value=(self.stage2_after_days, self.stage3_after_days))

    def stage(self, bucket_name: str) -> int:
        """The ECL stage of a bucket: its days past due against the stage thresholds (M1 is 1-30 days...)."""
        index = BUCKETS.index(bucket_name)
        most_days = 30 * index if index < len(BUCKETS) - 1 else 10**9
        least_days = 30 * (index - 1) + 1 if index else 0
        if least_days > self.stage3_after_days:
            return 3
        return 2 if most_days > self.stage2_after_days else 1


DEFAULT_PROVISIONING = (
    ProvisionPolicy(date(2002, 4, 2), "贷款损失准备计提指引 (银发〔2002〕98号); ECL per CAS 22 (verify)"),
)


def provisioning_on(policies: Sequence[ProvisionPolicy], on: date) -> ProvisionPolicy:
    """The policy in force on ``on`` (:func:`core.dated.in_force`; field ``provisioning``)."""
    return in_force(policies, on, "provisioning")


@dataclass(frozen=True)
class ProvisionLine:
    """One line of an estimate: what it covers (a class, the general reserve, or a bucket with its stage),
    the loans and principal, the rate applied and the amount."""

    item: str
    stage: int | None
    loans: int
    base: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Estimate:
    """The allowance a method requires on ``day``: its lines and their total."""

    method: str
    day: date
    lines: tuple[ProvisionLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def five_tier_estimate(book: Portfolio, policy: ProvisionPolicy) -> Estimate:
    """Specific provisions by class plus the general reserve (module docstring)."""
    lines = []
    for tier, part in book.five_tier.items():
        rate = policy.specific[tier]
        lines.append(ProvisionLine(tier.value, None, part.loans, part.principal, rate,
                                   round_money(part.principal * rate, Rounding.HALF_UP)))
    total = book.outstanding
    lines.append(ProvisionLine("general", None, total.loans, total.principal, policy.general,
                               round_money(total.principal * policy.general, Rounding.HALF_UP)))
    return Estimate("five_tier", book.day, tuple(lines))


def flow_pd(history: Sequence[Portfolio]) -> dict[str, Decimal]:
    """Each bucket's probability of default from month-end books oldest first (module docstring).

    A flow rate with no loans to flow from in any month pair is taken as 0 (nothing has been seen to roll).
    """
    rates: dict[str, Decimal] = {}
    for index, name in enumerate(BUCKETS[:BUCKETS.index(DEFAULT_BUCKET)]):
        following = BUCKETS[index + 1]
        seen = [(later.buckets[following].loans, earlier.buckets[name].loans)
                for earlier, later in pairwise(history) if earlier.buckets[name].loans]
        rates[name] = (sum((min(ONE, Decimal(rolled) / Decimal(base)) for rolled, base in seen), ZERO)
                       / len(seen)) if seen else ZERO
    pd: dict[str, Decimal] = {}
    chain = ONE
    for name in reversed(BUCKETS):
        if BUCKETS.index(name) >= BUCKETS.index(DEFAULT_BUCKET):
            pd[name] = ONE
        else:
            chain *= rates[name]
            pd[name] = chain
    return {name: pd[name] for name in BUCKETS}


def ecl_estimate(book: Portfolio, pd: Mapping[str, Decimal], policy: ProvisionPolicy) -> Estimate:
    """PD × LGD × EAD per bucket, each with its stage (module docstring)."""
    lines = []
    for name, part in book.buckets.items():
        rate = pd[name] * policy.lgd * policy.ead_ratio
        lines.append(ProvisionLine(name, policy.stage(name), part.loans, part.principal, rate,
                                   round_money(part.principal * rate, Rounding.HALF_UP)))
    return Estimate("ecl", book.day, tuple(lines))


def month_ends(day: date, months: int) -> list[date]:
    """The ``months`` month ends before ``day``'s month, oldest first, then ``day`` itself."""
    ends = []
    end = day.replace(day=1) - timedelta(days=1)
    for _ in range(months):
        ends.append(end)
        end = end.replace(day=1) - timedelta(days=1)
    return [*reversed(ends), day]
