"""Writing a report's table as CSV and as XLSX, the same figures in both.

A :class:`Table` is a title, column headings and rows of plain values (str, int, Decimal, date, None).
CSV is UTF-8 with a byte-order mark, so Excel opens the Chinese headings correctly; money is written
with two decimals, ratios with four. XLSX (openpyxl) keeps numbers as numbers with a display format,
bold headings and frozen header row; Decimals are written exactly as their text so no float is involved
in what is stored beyond Excel's own number type.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from core.plugins.types import ReportFile

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Value = str | int | Decimal | date | None


@dataclass(frozen=True)
class Table:
    """A report's content: ``ratio_columns`` are shown as 0.0000 rather than as money; ``slug`` names the
    table's CSV file when a report has several (``<stem>-<slug>.csv``)."""

    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    ratio_columns: frozenset[int] = frozenset()
    slug: str = ""


def _text(value: Value, ratio: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.4f}" if ratio else f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headings)
    for row in table.rows:
        writer.writerow(_text(value, i in table.ratio_columns) for i, value in enumerate(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table (sheet names are the titles, cut to Excel's 31 characters)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(list(table.headings))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in table.rows:
            sheet.append([value for value in row])
            for i, value in enumerate(row):
                cell = sheet.cell(row=sheet.max_row, column=i + 1)
                if isinstance(value, Decimal):
                    cell.number_format = "0.0000" if i in table.ratio_columns else "#,##0.00"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
        for column, heading in enumerate(table.headings, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = max(12, len(heading) * 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_files(stem: str, tables: Sequence[Table]) -> list[ReportFile]:
    """A CSV per table (``<stem>.csv``, or ``<stem>-<slug>.csv`` when a table has a slug) and ``<stem>.xlsx``."""
    files = []
    for table in tables:
        name = f"{stem}-{table.slug}.csv" if table.slug else f"{stem}.csv"
        files.append(ReportFile(name=name, media_type=CSV_TYPE, content=to_csv(table)))
    files.append(ReportFile(name=f"{stem}.xlsx", media_type=XLSX_TYPE, content=to_xlsx(tables)))
    return files
