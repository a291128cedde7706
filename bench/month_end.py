"""Benchmark: a month-end close (provisions, vouchers, statements, reconciliation) on PostgreSQL, two workers.

Seeds a fresh database with ``--loans`` loans as ``bench/eod.py`` does (disbursed in the 28 days before
2026-06-30, about 5% with an installment left unpaid) and closes 2026-06-30 with two end-of-day workers, so
June's journal holds the disbursements and a night of accruals, penalties and classifications. Then it runs
June's close with two worker processes, in two phases (the second reads what the first posted):

1. the five-tier provision booked for 06-30 (which reads the book at the month end and its six month ends
   before, for the ECL beside it) | the sub-ledger reconciled to the GL control accounts;
2. June's vouchers written as XLSX in the 金蝶 layout | the balance sheet and income statement.

It prints each step's time, the wall time of the close, and beside it a raw-SQL lower bound measured in the
same run: one ``GROUP BY`` of June's postings by day, product and account (the one pass over the month's
journal any close must make). The database is dropped at the end unless ``--keep``. Each run appends its
figures to ``bench/results/month_end.csv``. Usage::

    .venv/bin/python bench/month_end.py [--loans 1000000] [--partition-size 50000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _record import record
from eod import BUSINESS_DATE, load, run, scratch_database, seed, server_settings
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db.base import make_engine, make_session_factory
from core.finance.provision_posting import book_provision
from core.finance.reconciliation import reconcile
from core.finance.statements import balance_sheet, income_statement
from core.finance.vouchers import read_layout, vouchers, write_xlsx

FIRST, LAST = BUSINESS_DATE.replace(day=1), BUSINESS_DATE
LAYOUT = Path(__file__).resolve().parents[1] / "product_configs" / "vouchers" / "kingdee.json"


def provisions(url: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        booked = book_provision(session, LAST)
        session.commit()
    engine.dispose()
    return f"provision {booked.report.chosen.total} posted {booked.change}"


def reconciliation(url: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = reconcile(session).differences
    engine.dispose()
    return f"reconciliation: {len(found)} differences"


def voucher_file(url: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = vouchers(session, FIRST, LAST)
    engine.dispose()
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=True) as out:
        out.write(write_xlsx(found, read_layout(LAYOUT)))
        size = out.tell()
    return f"{len(found)} vouchers, {sum(len(v.lines) for v in found)} lines, {size:,} bytes of XLSX"


def statements(url: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        sheet, statement = balance_sheet(session, LAST), income_statement(session, FIRST, LAST)
    engine.dispose()
    return f"balance sheet balanced: {sheet.balanced}; June's result {statement.result}"


def timed(step: Callable[[str], str], url: str) -> tuple[str, float, str]:
    began = time.perf_counter()
    said = step(url)
    return step.__name__, time.perf_counter() - began, said


def lower_bound(url: str) -> float:
    """One GROUP BY of the month's postings by day, product and account."""
    engine = make_engine(url)
    began = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT e.business_date, l.product_code, p.account, sum(p.debit), sum(p.credit) "
                          "FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
                          "LEFT JOIN loans l ON l.id = p.loan_id WHERE e.business_date BETWEEN :first AND :last "
                          "GROUP BY 1, 2, 3"), {"first": FIRST, "last": LAST}).all()
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


def close(url: str) -> tuple[float, dict[str, float], list[str]]:
    """The close in two phases of two parallel steps; wall time, each step's time, what each said."""
    steps: dict[str, float] = {}
    said: list[str] = []
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        for phase in ((provisions, reconciliation), (voucher_file, statements)):
            for name, seconds, words in pool.map(timed, phase, [url] * len(phase)):
                steps[name] = seconds
                said.append(f"{name} {seconds:.1f} s: {words}")
    return time.perf_counter() - began, steps, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--partition-size", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with scratch_database(args.keep) as (url, name):
        seconds = seed(url, args.loans)
        print(f"seeded {args.loans:,} loans in {seconds:.1f} s ({name}); PostgreSQL: {server_settings(url)}")
        night, loans, rows, _ = run(url, BUSINESS_DATE, 2, args.partition_size)
        print(f"EOD {BUSINESS_DATE} with 2 workers: {night:.1f} s for {loans:,} loans ({rows:,} ledger rows)")
        floor = lower_bound(url)
        print(f"raw-SQL lower bound (one GROUP BY of June's postings by day, product, account): {floor:.2f} s "
              f"({load()})")
        wall, steps, said = close(url)
        for line in said:
            print(f"  {line}")
        print(f"month-end close, 2 workers: {wall:.1f} s, {wall / floor:.1f}x the lower bound ({load()}, "
              f"{os.cpu_count()} cores)")
        row: dict[str, object] = {"loans": args.loans, "eod_s": round(night, 1), "lower_bound_s": round(floor, 2),
                                  "close_s": round(wall, 1), "x_lower_bound": round(wall / floor, 1),
                                  **{f"{name}_s": round(value, 1) for name, value in steps.items()},
                                  "load": round(os.getloadavg()[0], 2)}
        print(f"recorded in {record('month_end', row)}")


if __name__ == "__main__":
    main()
