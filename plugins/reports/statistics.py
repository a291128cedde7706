"""Monthly business statistics (月度业务统计): lending, balances, delinquency, classification, approvals.

For the month ``start``..``end`` (whole calendar month; positions at the end of ``end``):

=============== ===============================================================================
section         rows
=============== ===============================================================================
disbursed       loans disbursed in the month: count and principal paid out
outstanding     loans open at month end: count and principal balance (journal, account 1303)
bucket          M0..M7 at month end: count, balance, share of the total balance
overdue         M1 and worse together: count, balance, overdue ratio (逾期率, by balance)
five_tier       正常..损失 at month end: count, balance, share; then 不良 (次级+可疑+损失) and the NPL ratio
applications    applications approved and rejected in the month (their decision's state change),
                and the approval rate approved / (approved + rejected)
=============== ===============================================================================

Ratios are given to four decimal places (0.1234 = 12.34%), rounded half up; an empty denominator
gives no ratio.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.loans.delinquency import LABELS_ZH, NON_PERFORMING, ClassificationPolicy
from core.loans.models import FiveTier
from core.states import StateTransition
from plugins.reports.books import iter_loans, principal_balances
from plugins.reports.positions import position
from plugins.reports.writers import Table, Value

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7")
BUCKET_LABELS = {"M0": "正常 (未逾期)", "M1": "逾期1-30天", "M2": "逾期31-60天", "M3": "逾期61-90天",
                 "M4": "逾期91-120天", "M5": "逾期121-150天", "M6": "逾期151-180天", "M7": "逾期180天以上"}
HEADINGS = ("section", "item", "说明", "count", "amount", "ratio")
ZERO = Decimal(0)
RATIO = Decimal("0.0001")


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` to four places, half up; ``None`` when ``whole`` is zero."""
    return (part / whole).quantize(RATIO, ROUND_HALF_UP) if whole else None


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def decisions(session: Session, start: date, end: date) -> Counter[str]:
    """Applications moved to ``approved`` / ``rejected`` in the month (Asia/Shanghai days)."""
    rows = session.execute(
        select(StateTransition.to_state, func.count(func.distinct(StateTransition.entity_id)))
        .where(StateTransition.entity_type == "application", StateTransition.to_state.in_(("approved", "rejected")),
               StateTransition.at >= _utc_midnight(start), StateTransition.at < _utc_midnight(end + timedelta(days=1)))
        .group_by(StateTransition.to_state)).all()
    return Counter({state: count for state, count in rows})


def monthly_statistics(session: Session, start: date, end: date,
                       policies: tuple[ClassificationPolicy, ...]) -> Table:
    """The statistics table for the month ``start``..``end``."""
    disbursed = Counter[str]()
    disbursed_amount = ZERO
    counts: Counter[str] = Counter()
    balances: dict[str, Decimal] = {}
    for chunk in iter_loans(session, opened_by=end, open_after=start):
        month_end = principal_balances(session, [loan.id for loan in chunk], end)
        for loan in chunk:
            if start <= loan.disbursed_on <= end:
                disbursed["loans"] += 1
                disbursed_amount += loan.principal
            at_end = position(loan, end, month_end[loan.id], policies)
            if at_end.closed:
                continue
            for key in ("outstanding", at_end.bucket, at_end.five_tier.value):
                counts[key] += 1
                balances[key] = balances.get(key, ZERO) + at_end.balance
    total = balances.get("outstanding", ZERO)
    rows: list[tuple[Value, ...]] = [
        ("disbursed", "loans", "本月放款", disbursed["loans"], disbursed_amount, None),
        ("outstanding", "loans", "月末贷款余额", counts["outstanding"], total, None),
    ]
    for name in BUCKETS:
        amount = balances.get(name, ZERO)
        rows.append(("bucket", name, BUCKET_LABELS[name], counts[name], amount, ratio(amount, total)))
    overdue = sum((balances.get(name, ZERO) for name in BUCKETS[1:]), ZERO)
    rows.append(("overdue", "M1+", "逾期合计 (逾期率)", sum(counts[n] for n in BUCKETS[1:]), overdue,
                 ratio(overdue, total)))
    for tier in FiveTier:
        amount = balances.get(tier.value, ZERO)
        rows.append(("five_tier", tier.value, LABELS_ZH[tier], counts[tier.value], amount, ratio(amount, total)))
    bad = [t.value for t in FiveTier if t in NON_PERFORMING]
    npl = sum((balances.get(t, ZERO) for t in bad), ZERO)
    rows.append(("five_tier", "non_performing", "不良 (次级+可疑+损失, 不良率)", sum(counts[t] for t in bad), npl,
                 ratio(npl, total)))
    decided = decisions(session, start, end)
    approved, rejected = decided["approved"], decided["rejected"]
    rows += [
        ("applications", "approved", "审批通过", approved, None, None),
        ("applications", "rejected", "审批拒绝", rejected, None, None),
        ("applications", "approval_rate", "审批通过率", approved + rejected, None,
         ratio(Decimal(approved), Decimal(approved + rejected))),
    ]
    return Table(title=f"月度业务统计 {start:%Y-%m}", headings=HEADINGS, rows=tuple(rows),
                 ratio_columns=frozenset({5}))
