"""Delinquency buckets and the five-tier loan classification (五级分类).

Days past due (DPD) count calendar days from the oldest unpaid due date: a loan whose installment fell
due on the 10th and is still unpaid at the end of the 11th is 1 day past due.

Buckets follow the industry convention: M0 current, M1 1–30, M2 31–60, M3 61–90, M4 91–120, M5 121–150,
M6 151–180 and M7 over 180 days (so "M4+" is everything over 90).

The five tiers (正常 normal, 关注 special mention, 次级 substandard, 可疑 doubtful, 损失 loss) follow
商业银行金融资产风险分类办法 (2023): any overdue at least 关注 (a technical overdue of up to
``technical_days`` excepted), over 90 days at least 次级, over 270 at least 可疑, over 360 损失. The
thresholds are dated configuration (:class:`ClassificationPolicy` with ``effective_from`` and
``source``): the policy in force on the business date classifies.

Downgrades follow the days past due at once; upgrades are the policy's ``upgrade_after_repaid_from``: a loan
classed at that tier or worse (default 次级, i.e. every non-performing loan) moves to a better class only once
all its arrears are repaid (no installment left overdue), never on a partial payment that merely shortens its
days past due (办法 Art. 13 and 14 as read by the default policy; source marked for verification). The default
policy applies no observation period after the arrears are repaid (the 办法's observation period is for
restructured assets, which this kernel does not book).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise

from core.errors import InvalidArgumentError
from core.loans.models import FiveTier

LABELS_ZH = {FiveTier.NORMAL: "正常", FiveTier.SPECIAL_MENTION: "关注", FiveTier.SUBSTANDARD: "次级",
             FiveTier.DOUBTFUL: "可疑", FiveTier.LOSS: "损失"}
NON_PERFORMING = frozenset({FiveTier.SUBSTANDARD, FiveTier.DOUBTFUL, FiveTier.LOSS})  # 不良


def tier_code(tier: FiveTier) -> int:
    """The 征信 code of a class, 1 正常 ... 5 损失."""
    return list(FiveTier).index(tier) + 1


def tier_rank(tier: FiveTier) -> int:
    """How bad a class is: 0 正常 ... 4 损失."""
    return list(FiveTier).index(tier)


def bucket(days_past_due: int) -> str:
    """The delinquency bucket: ``M0`` current, ``M1`` 1–30 ... ``M7`` over 180.

    >>> [bucket(d) for d in (0, 1, 30, 31, 90, 91, 181, 400)]
    ['M0', 'M1', 'M1', 'M2', 'M3', 'M4', 'M7', 'M7']
    """
    if days_past_due < 0:
        raise InvalidArgumentError(f"days_past_due: must not be negative (got {days_past_due})",
                                   field="days_past_due", value=days_past_due)
    if days_past_due == 0:
        return "M0"
    return f"M{min(7, (days_past_due - 1) // 30 + 1)}"


@dataclass(frozen=True)
class ClassificationPolicy:
    """DPD thresholds of the five tiers, in force from ``effective_from``.

    A loan more than ``technical_days`` overdue is at least 关注; more than ``substandard_after`` at
    least 次级; more than ``doubtful_after`` at least 可疑; more than ``loss_after`` 损失. A loan classed
    ``upgrade_after_repaid_from`` or worse keeps its class until all arrears are repaid (``None``: a class
    always follows the days past due).

    Raises:
        InvalidArgumentError: the thresholds are negative or not increasing (field ``classification``).
    """

    effective_from: date
    source: str
    technical_days: int = 0
    substandard_after: int = 90
    doubtful_after: int = 270
    loss_after: int = 360
    upgrade_after_repaid_from: FiveTier | None = FiveTier.SUBSTANDARD

    def __post_init__(self) -> None:
        steps = (self.technical_days, self.substandard_after, self.doubtful_after, self.loss_after)
        if self.technical_days < 0 or any(a >= b for a, b in pairwise(steps)):
            raise InvalidArgumentError(f"classification: thresholds must be >= 0 and increasing (got {steps})",
                                       field="classification", value=steps)

    def classify(self, days_past_due: int) -> FiveTier:
        """The class of a loan ``days_past_due`` days overdue under this policy."""
        if days_past_due > self.loss_after:
            return FiveTier.LOSS
        if days_past_due > self.doubtful_after:
            return FiveTier.DOUBTFUL
        if days_past_due > self.substandard_after:
            return FiveTier.SUBSTANDARD
        if days_past_due > self.technical_days:
            return FiveTier.SPECIAL_MENTION
        return FiveTier.NORMAL

    def reclassify(self, current: FiveTier, days_past_due: int) -> FiveTier:
        """The class of a loan classed ``current`` that is ``days_past_due`` days overdue today: the class of its
        days, except that a loan at ``upgrade_after_repaid_from`` or worse is not upgraded while arrears remain."""
        found = self.classify(days_past_due)
        held = self.upgrade_after_repaid_from
        if (held is not None and days_past_due > 0 and tier_rank(current) >= tier_rank(held)
                and tier_rank(found) < tier_rank(current)):
            return current
        return found

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ClassificationPolicy:
        """Build from configuration ``{"effective_from": "2023-07-01", "source": "...", ...}``."""
        try:
            effective = date.fromisoformat(str(data["effective_from"]))
        except (KeyError, ValueError):
            raise InvalidArgumentError("classification.effective_from: an ISO date is required",
                                       field="classification.effective_from",
                                       value=data.get("effective_from")) from None
        ints = {key: int(str(data[key])) for key in
                ("technical_days", "substandard_after", "doubtful_after", "loss_after") if key in data}
        policy = cls(effective, str(data.get("source", "")), **ints)  # type: ignore[arg-type]
        if "upgrade_after_repaid_from" not in data:
            return policy
        held = data["upgrade_after_repaid_from"]
        try:
            tier = None if held is None else FiveTier(str(held))
        except ValueError:
            raise InvalidArgumentError("classification.upgrade_after_repaid_from: a five-tier class or null",
                                       field="classification.upgrade_after_repaid_from", value=held) from None
        return replace(policy, upgrade_after_repaid_from=tier)


DEFAULT_CLASSIFICATION = (
    ClassificationPolicy(date(2023, 7, 1),
                         "商业银行金融资产风险分类办法 (国家金融监督管理总局、中国人民银行令2023年第1号); upgrade rule "
                         "(non-performing upgraded only once arrears are repaid): Art. 13-14, verify"),
)


def policy_on(policies: Sequence[ClassificationPolicy], on: date) -> ClassificationPolicy:
    """The policy in force on ``on``: the latest ``effective_from`` not after it.

    Raises:
        InvalidArgumentError: no policy is in force yet on ``on`` (field ``classification``).
    """
    in_force = [p for p in policies if p.effective_from <= on]
    if not in_force:
        raise InvalidArgumentError(f"classification: no policy in force on {on}", field="classification", value=on)
    return max(in_force, key=lambda p: p.effective_from)
