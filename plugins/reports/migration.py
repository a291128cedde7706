"""The five-tier migration matrix (五级分类迁徙矩阵) of a period.

Each loan on the books at the opening (the end of the day before ``start``) is counted in the row of its
class then and the column of where it stands at the end of ``end``: a class, 结清 (paid off or prepaid
in the period) or 核销 (written off). Loans disbursed during the period form the row 新发放. Two tables:
the number of loans, and their principal balance at the opening (for 新发放, at the end of the period).

``downgrade_rate`` (迁徙率) is, per row, the share of the opening balance that ended in a worse class or
was written off; 损失 has no worse class, so its rate is that of write-offs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.loans.delinquency import LABELS_ZH, ClassificationPolicy
from core.loans.models import FiveTier
from core.portfolio.measures import ratio
from core.portfolio.positions import position
from plugins.reports.books import iter_loans, principal_balances
from plugins.reports.writers import Table, Value

ZERO = Decimal(0)
NEW = "new"
CLOSED = "closed"
WRITTEN_OFF = "written_off"
ROWS = (*(t.value for t in FiveTier), NEW)
COLUMNS = (*(t.value for t in FiveTier), CLOSED, WRITTEN_OFF)
LABELS = {**{t.value: LABELS_ZH[t] for t in FiveTier}, NEW: "新发放", CLOSED: "结清", WRITTEN_OFF: "核销"}
RANK = {t.value: i for i, t in enumerate(FiveTier)}


def _worse(origin: str, target: str) -> bool:
    if target == WRITTEN_OFF:
        return True
    return origin in RANK and target in RANK and RANK[target] > RANK[origin]


def migration_tables(session: Session, start: date, end: date,
                     policies: tuple[ClassificationPolicy, ...]) -> tuple[Table, Table]:
    """The count and the balance matrices for ``start``..``end``."""
    opening = start - timedelta(days=1)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for chunk in iter_loans(session, opened_by=end, open_after=start):
        ids = [loan.id for loan in chunk]
        before, after = principal_balances(session, ids, opening), principal_balances(session, ids, end)
        for loan in chunk:
            if loan.opened_by(opening):
                was = position(loan, opening, before[loan.id], policies)
                origin, weight = was.five_tier.value, was.balance
            else:
                origin, weight = NEW, after[loan.id]
            now = position(loan, end, after[loan.id], policies)
            target = (WRITTEN_OFF if now.written_off else CLOSED) if now.closed else now.five_tier.value
            counts[origin, target] += 1
            amounts[origin, target] += weight
    headings = ("from", "说明", *(LABELS[c] for c in COLUMNS), "total", "downgrade_rate")
    count_rows: list[tuple[Value, ...]] = []
    amount_rows: list[tuple[Value, ...]] = []
    for origin in ROWS:
        cells = [counts[origin, target] for target in COLUMNS]
        money = [amounts[origin, target] for target in COLUMNS]
        total = sum(money, ZERO)
        worse = sum((amounts[origin, t] for t in COLUMNS if _worse(origin, t)), ZERO)
        rate = ratio(worse, total) if origin != NEW else None
        count_rows.append((origin, LABELS[origin], *cells, sum(cells), rate))
        amount_rows.append((origin, LABELS[origin], *money, total, rate))
    title = f"{start.isoformat()}~{end.isoformat()}"
    rate_column = frozenset({len(headings) - 1})
    return (Table(title=f"迁徙笔数 {title}", headings=headings, rows=tuple(count_rows), ratio_columns=rate_column,
                  slug="count"),
            Table(title=f"迁徙余额 {title}", headings=headings, rows=tuple(amount_rows), ratio_columns=rate_column,
                  slug="balance"))
