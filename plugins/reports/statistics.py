"""Monthly business statistics (月度业务统计): lending, balances, delinquency, classification, provisions,
income, approvals.

For the month ``start``..``end`` (whole calendar month; positions at the end of ``end``):

=============== ===============================================================================
section         rows
=============== ===============================================================================
disbursed       loans disbursed in the month: count and principal paid out
outstanding     loans open at month end: count and principal balance (journal, account 1303)
bucket          M0..M7 at month end: count, balance, share of the total balance
overdue         M1 and worse together: count, balance, overdue ratio (逾期率, by balance)
five_tier       正常..损失 at month end: count, balance, share; then 不良 (次级+可疑+损失) and the NPL ratio
provisions      the loan-loss allowance held at month end, 拨备覆盖率 (/ 不良) and 拨贷比 (/ balance)
income          income recognised in the month per product (interest, penalty, fees; net of non-accrual)
applications    applications approved and rejected in the month (their decision's state change),
                and the approval rate approved / (approved + rejected)
=============== ===============================================================================

Every figure but the approvals is a portfolio measure of the kernel (:mod:`core.portfolio.measures`:
what is outstanding, the buckets, the classes, the ratios, four places rounded half up, none on an empty
denominator), added up from the positions rebuilt at month end; the cockpit reads the same measures.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.businessday.clock import start_of
from core.loans.delinquency import LABELS_ZH, ClassificationPolicy
from core.portfolio.measures import Coverage, Tally, allowance, disbursed, income_by_product_month, ratio
from core.portfolio.positions import position
from core.states import StateTransition
from plugins.reports.books import iter_loans, principal_balances
from plugins.reports.writers import Table, Value

BUCKET_LABELS = {"M0": "正常 (未逾期)", "M1": "逾期1-30天", "M2": "逾期31-60天", "M3": "逾期61-90天",
                 "M4": "逾期91-120天", "M5": "逾期121-150天", "M6": "逾期151-180天", "M7": "逾期180天以上"}
HEADINGS = ("section", "item", "说明", "count", "amount", "ratio")


def _utc_midnight(day: date) -> datetime:
    return start_of(day)


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
    tally = Tally(end)
    for chunk in iter_loans(session, opened_by=end, open_after=start):
        month_end = principal_balances(session, [loan.id for loan in chunk], end)
        for loan in chunk:
            tally.add(position(loan, end, month_end[loan.id], policies))
    book = tally.portfolio()
    lent, total = disbursed(session, start, end), book.outstanding
    rows: list[tuple[Value, ...]] = [
        ("disbursed", "loans", "本月放款", lent.loans, lent.principal, None),
        ("outstanding", "loans", "月末贷款余额", total.loans, total.principal, None),
    ]
    for name, part in book.buckets.items():
        rows.append(("bucket", name, BUCKET_LABELS[name], part.loans, part.principal, book.share(part)))
    late = book.delinquent
    rows.append(("overdue", "M1+", "逾期合计 (逾期率)", late.loans, late.principal, book.m1_plus_ratio))
    for tier, part in book.five_tier.items():
        rows.append(("five_tier", tier.value, LABELS_ZH[tier], part.loans, part.principal, book.share(part)))
    bad = book.non_performing
    rows.append(("five_tier", "non_performing", "不良 (次级+可疑+损失, 不良率)", bad.loans, bad.principal,
                 book.npl_ratio))
    cover = Coverage(allowance(session, end), bad.principal, total.principal)
    rows += [
        ("provisions", "allowance", "贷款损失准备余额", None, cover.allowance, None),
        ("provisions", "coverage", "拨备覆盖率 (准备 / 不良贷款)", None, None, cover.coverage_ratio),
        ("provisions", "allowance_ratio", "拨贷比 (准备 / 贷款余额)", None, None, cover.allowance_ratio),
    ]
    for (product, _month), amount in income_by_product_month(session, start, end).items():
        rows.append(("income", product or "-", f"本月收入 {product or '公共'}", None, amount, None))
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
