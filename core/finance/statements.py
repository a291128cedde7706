"""The loan business's balance sheet and income statement, read from the general ledger.

Both read the journal through the chart (:mod:`core.finance.general_ledger`), one row per GL code with a
balance, grouped by the chart's type:

* :func:`balance_sheet` at the end of a day: assets (debit minus credit, so contra accounts such as the
  loan-loss allowance and the non-accrual suspense show negative), liabilities and equity (credit minus
  debit), and the accumulated result of the income and expense accounts (the loan business has no equity
  postings of its own, so the result is its equity); assets equal liabilities plus equity plus result,
  which :attr:`BalanceSheet.balanced` checks. Off-balance (``memo``) accounts are listed apart.
* :func:`income_statement` for a period: each income account's credits less debits and each expense
  account's debits less credits of the entries dated in the period, and the net result.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.finance.chart import Chart
from core.finance.charts import chart_in_force
from core.finance.general_ledger import GeneralLedger, general_ledger

ZERO = Decimal(0)


@dataclass(frozen=True)
class StatementRow:
    """One GL code's amount in a statement (its sign as the statement presents it)."""

    gl_code: str
    name_zh: str
    name_en: str
    amount: Decimal


def _rows(ledger: GeneralLedger, types: tuple[str, ...], credit_positive: bool) -> dict[str, list[StatementRow]]:
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in ledger.lines:
        net[line.gl_code] += line.debit - line.credit
    found: dict[str, list[StatementRow]] = {kind: [] for kind in types}
    for code in sorted(net):
        account = ledger.chart.accounts.get(code)
        if account is None or account.type not in types or not net[code]:
            continue
        amount = -net[code] if credit_positive and account.type in ("liability", "equity", "income") else net[code]
        found[account.type].append(StatementRow(code, account.name_zh, account.name_en, amount))
    return found


def _total(rows: list[StatementRow]) -> Decimal:
    return sum((row.amount for row in rows), ZERO)


@dataclass(frozen=True)
class BalanceSheet:
    """Assets, liabilities, equity and the accumulated result at the end of ``day``; memo accounts apart."""

    day: date
    assets: tuple[StatementRow, ...]
    liabilities: tuple[StatementRow, ...]
    equity: tuple[StatementRow, ...]
    result: Decimal
    memo: tuple[StatementRow, ...]

    @property
    def total_assets(self) -> Decimal:
        return _total(list(self.assets))

    @property
    def total_liabilities_and_equity(self) -> Decimal:
        return _total(list(self.liabilities)) + _total(list(self.equity)) + self.result

    @property
    def balanced(self) -> bool:
        return self.total_assets == self.total_liabilities_and_equity


@dataclass(frozen=True)
class IncomeStatement:
    """Income and expense of the entries dated ``first`` .. ``last``, and the net result."""

    first: date
    last: date
    income: tuple[StatementRow, ...]
    expense: tuple[StatementRow, ...]

    @property
    def result(self) -> Decimal:
        return _total(list(self.income)) - _total(list(self.expense))


def balance_sheet(session: Session, day: date, *, chart: Chart | None = None) -> BalanceSheet:
    """The balance sheet at the end of ``day`` (module docstring)."""
    ledger = general_ledger(session, through=day, chart=chart)
    rows = _rows(ledger, ("asset", "liability", "equity", "income", "expense", "memo"), credit_positive=True)
    result = _total(rows["income"]) - _total(rows["expense"])
    return BalanceSheet(day, tuple(rows["asset"]), tuple(rows["liability"]), tuple(rows["equity"]), result,
                        tuple(rows["memo"]))


def income_statement(session: Session, first: date, last: date, *, chart: Chart | None = None) -> IncomeStatement:
    """Income and expense of the entries dated ``first`` .. ``last`` (module docstring)."""
    chart = chart or chart_in_force(session, last)
    through_last = _rows(general_ledger(session, through=last, chart=chart), ("income", "expense"), True)
    before = _rows(general_ledger(session, through=first - timedelta(days=1), chart=chart), ("income", "expense"),
                   True)

    def period(kind: str) -> tuple[StatementRow, ...]:
        named = {row.gl_code: row for row in (*before[kind], *through_last[kind])}
        earlier = {row.gl_code: row.amount for row in before[kind]}
        later = {row.gl_code: row.amount for row in through_last[kind]}
        rows = [StatementRow(code, named[code].name_zh, named[code].name_en,
                             later.get(code, ZERO) - earlier.get(code, ZERO)) for code in sorted(named)]
        return tuple(row for row in rows if row.amount)

    return IncomeStatement(first, last, period("income"), period("expense"))
