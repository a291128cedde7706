"""Accounting vouchers (记账凭证) for the company's general ledger, summarised by day, product and GL code.

:func:`vouchers` reads the journal's lines dated in a period, maps each to its GL code
(:mod:`core.finance.mapping`) and makes one voucher per business day and product (lines of no loan under
product ``None``), numbered ``1, 2, ...`` in the period by day then product. A voucher has one line per GL code
and side: the day's debits to the code, and apart its credits (a receivable both accrued and paid in a day
shows both), so every voucher balances and the period's vouchers add up to the journal's movement.

:func:`export_rows` lays them out for an import file as a :class:`VoucherLayout` says: the columns in order
(each a header and one of :data:`FIELDS`), the voucher word (凭证字, ``记``), the date format, and an account
mapping from our GL codes to the target ledger's own (用友 and 金蝶 number sub-accounts their own way); the
layout is a JSON file, so adapting to another ledger is a data change (``product_configs/vouchers/``,
docs/ledger.md). :func:`write_csv` and :func:`write_xlsx` write the rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.finance.chart import Chart
from core.finance.charts import chart_in_force
from core.finance.mapping import gl_code
from core.ledger.models import JournalEntry, Posting
from core.loans.models import Loan
from core.products.models import ProductVersion
from core.products.problems import Problem, pointer

ZERO = Decimal(0)
#: the fields a layout's column may show
FIELDS = ("date", "word", "number", "line", "summary", "account_code", "account_name", "debit", "credit",
          "currency", "product")


@dataclass(frozen=True)
class VoucherLine:
    """One line of a voucher: a GL code, its name, and a debit or a credit."""

    gl_code: str
    name_zh: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class Voucher:
    """One day's lines of one product; ``number`` counts the period's vouchers from 1."""

    number: int
    day: date
    product: str | None
    lines: tuple[VoucherLine, ...]

    @property
    def summary(self) -> str:
        return f"{self.product or '公共'} {self.day.isoformat()} 贷款业务汇总"

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


def vouchers(session: Session, first: date, last: date, *, chart: Chart | None = None) -> list[Voucher]:
    """The vouchers of the entries dated ``first`` .. ``last`` (module docstring)."""
    session.flush()
    chart = chart or chart_in_force(session, last)
    group = (JournalEntry.business_date, Loan.product_code, Loan.product_version_id, Posting.account)
    postgres = session.get_bind().dialect.name == "postgresql"  # sums in SQL; SQLite's text amounts in Python
    query = (select(*group, func.sum(Posting.debit), func.sum(Posting.credit)) if postgres
             else select(*group, Posting.debit, Posting.credit))
    query = (query.select_from(Posting).join(JournalEntry, JournalEntry.id == Posting.entry_id)
             .outerjoin(Loan, Loan.id == Posting.loan_id).where(JournalEntry.business_date.between(first, last)))
    rows = session.execute(query.group_by(*group) if postgres else query)
    sums: dict[tuple[date, str | None, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    by_version: dict[tuple[date, str | None, int | None, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for day, product, version, account, debit, credit in rows:
        pair = by_version[(day, product, version, account)]
        pair[0] += debit
        pair[1] += credit
    wanted = {version for (_, _, version, _) in by_version if version is not None}
    documents: dict[int, Any] = dict(session.execute(select(ProductVersion.id, ProductVersion.document).where(
        ProductVersion.id.in_(wanted))).tuples().all()) if wanted else {}
    for (day, product, version, account), (debit, credit) in by_version.items():
        document = documents.get(version) if version is not None else None
        roles = document.get("gl_accounts") if isinstance(document, dict) else None
        key = (day, product, gl_code(chart, account, roles))
        sums[key][0] += debit
        sums[key][1] += credit
    grouped: dict[tuple[date, str | None], list[VoucherLine]] = defaultdict(list)
    for (day, product, code), (debit, credit) in sorted(sums.items(), key=lambda item: (
            item[0][0], item[0][1] or "", item[0][2])):
        name = chart.accounts[code].name_zh if code in chart.accounts else code
        if debit:
            grouped[(day, product)].append(VoucherLine(code, name, debit, ZERO))
        if credit:
            grouped[(day, product)].append(VoucherLine(code, name, ZERO, credit))
    ordered = sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1] or ""))
    return [Voucher(number, day, product, tuple(lines)) for number, ((day, product), lines) in enumerate(ordered, 1)]


@dataclass(frozen=True)
class VoucherLayout:
    """How an import file lays vouchers out (module docstring); read with :func:`read_layout`."""

    name: str
    columns: tuple[tuple[str, str], ...]
    word: str = "记"
    date_format: str = "%Y-%m-%d"
    currency: str = "RMB"
    accounts: Mapping[str, str] | None = None


class InvalidLayoutError(ValueError):
    """A voucher layout file has problems; ``problems`` names each with its JSON pointer."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def layout_problems(document: object) -> list[Problem]:
    """Every problem of a layout document, with its JSON pointer."""
    if not isinstance(document, Mapping):
        return [Problem("", "layout.document", "版式须为 JSON 对象", "a layout must be a JSON object")]
    problems = []
    if not isinstance(document.get("name"), str) or not document["name"]:
        problems.append(Problem("/name", "layout.name", "须有版式名称", "name is required"))
    columns = document.get("columns")
    if not isinstance(columns, list) or not columns:
        problems.append(Problem("/columns", "layout.columns", "须列出各列", "columns must be a non-empty list"))
        columns = []
    for i, column in enumerate(columns):
        if not isinstance(column, Mapping) or not isinstance(column.get("header"), str):
            problems.append(Problem(pointer("columns", i, "header"), "layout.header", "每列须有表头",
                                    "each column needs a header"))
        elif column.get("field") not in FIELDS:
            problems.append(Problem(pointer("columns", i, "field"), "layout.field", f"字段 {column.get('field')} 未知",
                                    f"field must be one of {', '.join(FIELDS)}"))
    accounts = document.get("accounts", {})
    if not isinstance(accounts, Mapping) or not all(isinstance(v, str) for v in accounts.values()):
        problems.append(Problem("/accounts", "layout.accounts", "科目对照须为 代码→代码",
                                "accounts must map our GL codes to the target's codes"))
    return problems


def read_layout(path: Path) -> VoucherLayout:
    """The layout in the JSON file ``path``.

    Raises:
        InvalidLayoutError: the file has problems (each with its pointer).
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    problems = layout_problems(document)
    if problems:
        raise InvalidLayoutError(problems)
    return VoucherLayout(document["name"], tuple((c["header"], c["field"]) for c in document["columns"]),
                         document.get("word", "记"), document.get("date_format", "%Y-%m-%d"),
                         document.get("currency", "RMB"), dict(document.get("accounts", {})))


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}" if amount == amount.quantize(Decimal("0.01")) else format(amount.normalize(), "f")


def export_rows(found: Sequence[Voucher], layout: VoucherLayout) -> list[list[str]]:
    """The header row, then one row per voucher line, as the layout lays them out."""
    accounts = layout.accounts or {}
    rows = [[header for header, _ in layout.columns]]
    for voucher in found:
        for number, line in enumerate(voucher.lines, 1):
            values = {"date": voucher.day.strftime(layout.date_format), "word": layout.word,
                      "number": str(voucher.number), "line": str(number), "summary": voucher.summary,
                      "account_code": accounts.get(line.gl_code, line.gl_code), "account_name": line.name_zh,
                      "debit": _money(line.debit) if line.debit else "", "credit": _money(line.credit) if line.credit
                      else "", "currency": layout.currency, "product": voucher.product or ""}
            rows.append([values[field] for _, field in layout.columns])
    return rows


def write_csv(found: Sequence[Voucher], layout: VoucherLayout) -> str:
    """The vouchers as CSV text (UTF-8, with a byte-order mark for spreadsheet software)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(export_rows(found, layout))
    return out.getvalue()


def write_xlsx(found: Sequence[Voucher], layout: VoucherLayout) -> bytes:
    """The vouchers as an XLSX workbook (one sheet, amounts as exact text so no float touches them)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "凭证"
    for row in export_rows(found, layout):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
