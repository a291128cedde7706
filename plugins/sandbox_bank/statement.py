"""The daily reconciliation file (对账文件): writing it on the bank's side, reading it on ours.

A UTF-8 CSV. The first line is the summary the reader checks the rows against (so a truncated file is
caught): ``summary,<date>,<row count>,<money in>,<money out>``. The second line is the header, then one row
per order that moved money on that day, in bank serial order::

    summary,2026-01-15,3,250.50,13000.00
    settle_date,bank_serial,request_id,kind,direction,amount,currency
    2026-01-15,SB20260115A1B2C3D4E5F6,D-1,payout,out,12000.00,CNY
    ...

``direction`` is seen from the merchant: a payout and a refund take money ``out`` of its clearing
account, a debit of the borrower's card brings money ``in``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.errors import LoanFactoryError
from core.money import to_decimal

HEADER = ("settle_date", "bank_serial", "request_id", "kind", "direction", "amount", "currency")
DIRECTION = {"payout": "out", "refund": "out", "debit": "in"}


class StatementFormatError(LoanFactoryError):
    """The reconciliation file is malformed: ``field`` names the line and column, or the summary."""


@dataclass(frozen=True)
class StatementLine:
    """One order that moved money; ``signed_amount`` is positive for money in, negative for money out."""

    bank_serial: str
    request_id: str
    kind: str
    amount: Decimal
    currency: str = "CNY"

    @property
    def direction(self) -> str:
        return DIRECTION[self.kind]

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == "in" else -self.amount


def write_statement(day: date, lines: Sequence[StatementLine]) -> bytes:
    """The file for ``day`` holding ``lines``."""
    money_in = sum((line.amount for line in lines if line.direction == "in"), Decimal(0))
    money_out = sum((line.amount for line in lines if line.direction == "out"), Decimal(0))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("summary", day.isoformat(), len(lines), f"{money_in:.2f}", f"{money_out:.2f}"))
    writer.writerow(HEADER)
    for line in lines:
        writer.writerow((day.isoformat(), line.bank_serial, line.request_id, line.kind, line.direction,
                         f"{line.amount:.2f}", line.currency))
    return out.getvalue().encode("utf-8")


def read_statement(content: bytes) -> tuple[date, list[StatementLine]]:
    """The day and lines of a reconciliation file, checked against its summary line.

    Raises:
        StatementFormatError: bad summary or header, a malformed row, or rows that do not add up to the
            summary (a truncated or edited file).
    """
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    if len(rows) < 2 or len(rows[0]) != 5 or rows[0][0] != "summary":
        raise StatementFormatError("summary: the first line must be summary,<date>,<count>,<in>,<out>",
                                   field="summary")
    if tuple(rows[1]) != HEADER:
        raise StatementFormatError(f"header: expected {','.join(HEADER)}", field="header")
    try:
        day = date.fromisoformat(rows[0][1])
        count, money_in, money_out = int(rows[0][2]), Decimal(rows[0][3]), Decimal(rows[0][4])
    except ValueError:
        raise StatementFormatError(f"summary: {','.join(rows[0])!r} is not a valid summary", field="summary") from None
    lines = [_line(number, row, day) for number, row in enumerate(rows[2:], start=3)]
    got_in = sum((line.amount for line in lines if line.direction == "in"), Decimal(0))
    got_out = sum((line.amount for line in lines if line.direction == "out"), Decimal(0))
    if (len(lines), got_in, got_out) != (count, money_in, money_out):
        raise StatementFormatError(
            f"summary: the file announces {count} rows, in {money_in}, out {money_out}; its rows hold "
            f"{len(lines)}, in {got_in}, out {got_out}", field="summary")
    return day, lines


def _line(number: int, row: list[str], day: date) -> StatementLine:
    if len(row) != len(HEADER):
        raise StatementFormatError(f"line {number}: expected {len(HEADER)} columns, got {len(row)}",
                                   field=f"line {number}")
    record = dict(zip(HEADER, row, strict=True))
    if record["settle_date"] != day.isoformat():
        raise StatementFormatError(f"line {number}: settle_date {record['settle_date']} is not {day}",
                                   field=f"line {number}.settle_date")
    if record["kind"] not in DIRECTION or DIRECTION[record["kind"]] != record["direction"]:
        raise StatementFormatError(f"line {number}: kind {record['kind']!r} with direction "
                                   f"{record['direction']!r}", field=f"line {number}.kind")
    amount = to_decimal(record["amount"], f"line {number}.amount")
    if amount <= 0:
        raise StatementFormatError(f"line {number}: amount must be positive", field=f"line {number}.amount")
    return StatementLine(bank_serial=record["bank_serial"], request_id=record["request_id"], kind=record["kind"],
                         amount=amount, currency=record["currency"])
