"""The general ledger read through the mapping: the trial balance by GL code, by product, by kernel account.

:func:`general_ledger` sums the journal's lines by (kernel account, product version) up to a business
date, in SQL on PostgreSQL and exactly in Python on SQLite (which stores amounts as text), and maps each
group to its GL code (:mod:`core.finance.mapping`). The result, :class:`GeneralLedger`, keeps the finest
grain (GL code, product, kernel account), so its three readings, :meth:`GeneralLedger.by_gl`,
:meth:`~GeneralLedger.by_product` and :meth:`~GeneralLedger.by_kernel`, are sums of the same lines and
balance together: total debits equal total credits in each, as in the journal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.finance.chart import Chart
from core.finance.charts import chart_in_force
from core.finance.mapping import gl_code
from core.ledger.models import JournalEntry, Posting
from core.loans.models import Loan
from core.products.models import ProductVersion

ZERO = Decimal(0)


@dataclass(frozen=True)
class GlLine:
    """The sum of the journal's lines of one kernel account of one product (``None``: lines of no loan),
    and the GL code they map to."""

    gl_code: str
    product: str | None
    kernel_account: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class GlRow:
    """One row of a reading: its key (a GL code, a (product, GL code) pair or a kernel account), names and sums."""

    key: tuple[str | None, ...]
    name_zh: str
    name_en: str
    normal_side: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """The balance on the normal side: debit minus credit, or credit minus debit."""
        net = self.debit - self.credit
        return net if self.normal_side == "debit" else -net


@dataclass(frozen=True)
class Reading:
    """A trial balance: its rows and totals; ``balanced`` when total debits equal total credits."""

    rows: tuple[GlRow, ...]

    @property
    def total_debit(self) -> Decimal:
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((row.credit for row in self.rows), ZERO)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


@dataclass(frozen=True)
class GeneralLedger:
    """The journal's lines through ``through`` (``None``: all), mapped by ``chart``."""

    chart: Chart
    through: date | None
    lines: tuple[GlLine, ...]

    def _reading(self, key: Callable[[GlLine], tuple[str | None, ...]],
                 describe: Callable[[tuple[str | None, ...]], tuple[str, str, str]]) -> Reading:
        sums: dict[tuple[str | None, ...], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for line in self.lines:
            pair = sums[key(line)]
            pair[0] += line.debit
            pair[1] += line.credit
        return Reading(tuple(GlRow(k, *describe(k), debit, credit)
                             for k, (debit, credit) in sorted(sums.items(), key=lambda item: _sort_key(item[0]))))

    def _describe_gl(self, code: str | None) -> tuple[str, str, str]:
        found = self.chart.accounts.get(code or "")
        if found is None:
            return "（不在科目表中）", "(not in the chart)", "debit"
        return found.name_zh, found.name_en, found.normal_side

    def by_gl(self) -> Reading:
        """One row per GL code."""
        return self._reading(lambda line: (line.gl_code,), lambda key: self._describe_gl(key[0]))

    def by_product(self) -> Reading:
        """One row per (product code, GL code); lines of no loan under product ``None``."""
        return self._reading(lambda line: (line.product, line.gl_code), lambda key: self._describe_gl(key[1]))

    def by_kernel(self) -> Reading:
        """One row per kernel account, as :func:`core.ledger.trial_balance` reads the journal."""
        from core.ledger.accounts import account

        def describe(key: tuple[str | None, ...]) -> tuple[str, str, str]:
            found = account(key[0] or "")
            return found.name_zh, found.name_en, found.normal.value

        return self._reading(lambda line: (line.kernel_account,), describe)

    def balance_of(self, code: str) -> Decimal:
        """The balance of a GL code on its normal side, its sub-accounts included."""
        codes = {code} | {c for c in self.chart.accounts if _descends(self.chart, c, code)}
        side = self._describe_gl(code)[2]
        net = sum((line.debit - line.credit for line in self.lines if line.gl_code in codes), ZERO)
        return net if side == "debit" else -net


def _descends(chart: Chart, code: str, ancestor: str) -> bool:
    parent = chart.accounts[code].parent
    while parent is not None:
        if parent == ancestor:
            return True
        parent = chart.accounts[parent].parent if parent in chart.accounts else None
    return False


def _sort_key(key: tuple[str | None, ...]) -> tuple[Hashable, ...]:
    return tuple((part is None, part or "") for part in key)


def general_ledger(session: Session, *, through: date | None = None, chart: Chart | None = None) -> GeneralLedger:
    """The journal's lines with business dates up to ``through`` (all when ``None``), mapped by ``chart``
    (default: the chart in force on ``through``)."""
    session.flush()
    chart = chart or chart_in_force(session, through)
    postgres = session.get_bind().dialect.name == "postgresql"
    group = (Posting.account, Loan.product_code, Loan.product_version_id)
    columns: tuple[Any, ...] = ((*group, func.sum(Posting.debit), func.sum(Posting.credit)) if postgres
                                else (*group, Posting.debit, Posting.credit))
    query = select(*columns).outerjoin(Loan, Loan.id == Posting.loan_id)
    if through is not None:
        query = query.join(JournalEntry, JournalEntry.id == Posting.entry_id).where(
            JournalEntry.business_date <= through)
    if postgres:
        query = query.group_by(*group)
    sums: dict[tuple[str, str | None, int | None], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for account, product, version, debit, credit in session.execute(query):
        pair = sums[(account, product, version)]
        pair[0] += debit
        pair[1] += credit
    versions = {version for _, _, version in sums if version is not None}
    mapped = dict(session.execute(select(ProductVersion.id, ProductVersion.document).where(
        ProductVersion.id.in_(versions))).tuples().all()) if versions else {}
    lines: dict[tuple[str, str | None, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for (account, product, version), (debit, credit) in sums.items():
        document = mapped.get(version) if version is not None else None
        gl_accounts = document.get("gl_accounts") if isinstance(document, dict) else None
        pair = lines[(gl_code(chart, account, gl_accounts), product, account)]
        pair[0] += debit
        pair[1] += credit
    return GeneralLedger(chart, through, tuple(GlLine(code, product, account, debit, credit)
                                               for (code, product, account), (debit, credit) in sorted(
                                                   lines.items(), key=lambda item: _sort_key(item[0]))))
