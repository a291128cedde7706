"""Benchmark: reading a loan's balances on PostgreSQL, a new loan against one with 700 days of history.

Seeds a fresh database with ``--loans`` loans (default 1,000,000) with bench/eod.py's :func:`seed` (loans,
schedules, a disbursement entry each, their balance projection rows), then gives ``--aged`` of them
(default 1,000, spread evenly over the ids) 700 days of history: each day one entry, as end-of-day posts
them, with three postings per aged loan (interest, penalty and fee accrued: 1.4500, 0.5000 and 0.1000 on
the receivables) and one income line per kind; 2,100 postings a loan, written day by day, so each loan's
postings lie on pages of their own days as in a book closed every night. The aged loans' projection rows
get the same amounts (the dates are synthetic: only the postings count).

Then it times, on ``--samples`` new loans (day 1: their disbursement only) and as many aged ones (day
700), in turns:

- the read ``GET /loans/{id}/balances`` serves, :func:`core.ledger.loan_balances` (the projection row);
- the journal sum it served before, the baseline: :func:`core.ledger.journal_balances`.

Each is timed call by call over ``--rounds`` passes after one untimed pass that warms the caches; it
prints the medians (and the fastest calls, which load from elsewhere on a shared machine moves least),
day 700 / day 1 for each read and the journal sum / projection read at day 700, then
the time of the compare job over the whole book (``verify-projection``, range by range), which must find
no difference. The database is dropped at the end unless ``--keep``. Usage::

    .venv/bin/python bench/balances.py [--loans 1000000] [--aged 1000] [--samples 200] [--rounds 5] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.eod import ADMIN, BUSINESS_DATE, load, seed, server_settings
from core.db.base import make_engine, make_session_factory
from core.ledger import LoanBalances, Posting, journal_balances, loan_balances
from core.ledger.accounts import (
    FEE_INCOME,
    FEE_RECEIVABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
)
from core.ledger.projection import DEFAULT_RANGE_SIZE, WHOLE_BOOK
from loanfactory.cli.ledger import verify as verify_projection

DAYS = 700
#: what an aged loan accrues each day: (receivable, income, amount); one posting each on the loan
DAILY = ((INTEREST_RECEIVABLE, INTEREST_INCOME, Decimal("1.4500")),
         (PENALTY_RECEIVABLE, PENALTY_INCOME, Decimal("0.5000")),
         (FEE_RECEIVABLE, FEE_INCOME, Decimal("0.1000")))

_HISTORY = """
CREATE TEMP TABLE bench_aged AS
    SELECT g * %(step)s AS loan_id FROM generate_series(1, %(aged)s) AS g;
CREATE TEMP TABLE bench_daily (receivable varchar, income varchar, amount numeric);
INSERT INTO bench_daily VALUES {daily};
INSERT INTO ledger_entries (id, idempotency_key, event, loan_id, business_date, fingerprint)
    SELECT %(base)s + d, 'bench-history-' || d, 'accrual', NULL, CAST(%(first_day)s AS date) + d, md5('history' || d)
    FROM generate_series(1, %(days)s) AS d;
INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit)
    SELECT entry_id, account, loan_id, debit, credit FROM (
        SELECT %(base)s + d AS entry_id, k.receivable AS account, a.loan_id, k.amount AS debit, 0 AS credit, 0 AS side
        FROM generate_series(1, %(days)s) AS d CROSS JOIN bench_aged a CROSS JOIN bench_daily k
        UNION ALL
        SELECT %(base)s + d, k.income, NULL, 0, k.amount * %(aged)s, 1
        FROM generate_series(1, %(days)s) AS d CROSS JOIN bench_daily k) AS lines
    ORDER BY entry_id, side, loan_id, account;
UPDATE loan_balances b SET interest = b.interest + %(days)s * %(interest)s,
                           penalty = b.penalty + %(days)s * %(penalty)s, fee = b.fee + %(days)s * %(fee)s
    FROM bench_aged a WHERE b.loan_id = a.loan_id;
SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), %(base)s + %(days)s)
"""


def age(url: str, loans: int, aged: int) -> tuple[float, int]:
    """Write the 700-day history of ``aged`` loans (ids ``step, 2 step, ..``); seconds and the step."""
    step = loans // aged
    engine = make_engine(url)
    began = time.perf_counter()
    raw = engine.raw_connection()
    cursor = raw.cursor()
    with engine.connect() as conn:
        base = int(conn.scalar(select(func.max(Posting.entry_id))) or 0)
    params = {"step": step, "aged": aged, "base": base, "days": DAYS,
              "first_day": BUSINESS_DATE - timedelta(days=DAYS + 1),
              "interest": DAILY[0][2], "penalty": DAILY[1][2], "fee": DAILY[2][2]}
    daily = ", ".join(f"('{receivable}', '{income}', {amount})" for receivable, income, amount in DAILY)
    # no triggers: each day's entry balances by construction (its income lines are the loans' lines summed)
    cursor.execute("SET LOCAL session_replication_role = replica")
    for statement in _HISTORY.format(daily=daily).split(";\n"):
        cursor.execute(statement, params)
    raw.commit()
    cursor.execute("ANALYZE")
    raw.commit()
    raw.close()
    engine.dispose()
    return time.perf_counter() - began, step


Read = Callable[[Session, int], LoanBalances]
READS: dict[str, Read] = {"projection": loan_balances, "journal": journal_balances}


def measure(url: str, new: list[int], aged: list[int], rounds: int) -> dict[tuple[str, str], list[float]]:
    """(read, day) -> milliseconds of each call over ``rounds`` passes after a warm-up pass. The four calls
    for a pair of loans (each read of the new loan and of the aged one) follow each other in a shuffled
    order, so load from elsewhere on the machine, and whatever a call leaves to the next, fall on all four
    alike."""
    kinds = [(read, day) for read in READS for day in ("day 1", "day 700")]
    order = random.Random(2026)
    spent: dict[tuple[str, str], list[float]] = {kind: [] for kind in kinds}
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        for loan_id in (new[0], aged[0]):
            assert loan_balances(session, loan_id) == journal_balances(session, loan_id)
        for round_ in range(rounds + 1):
            for pair in zip(new, aged, strict=True):
                # the transaction's BEGIN goes with an untimed statement, as a request's read of the loan
                # row comes before its balances
                session.execute(text("SELECT 1"))
                order.shuffle(kinds)
                for name, day in kinds:
                    loan_id = pair[day == "day 700"]
                    began = time.perf_counter()
                    READS[name](session, loan_id)
                    if round_:
                        spent[(name, day)].append(1000 * (time.perf_counter() - began))
                session.rollback()
    engine.dispose()
    return spent


def verify(url: str) -> tuple[float, int, int]:
    """``loanfactory ledger verify-projection`` over the whole book: seconds, ranges, differences."""
    engine = make_engine(url)
    began = time.perf_counter()
    with make_session_factory(engine)() as session:
        differences, ranges = verify_projection(session, WHOLE_BOOK, DEFAULT_RANGE_SIZE)
    engine.dispose()
    return time.perf_counter() - began, ranges, len(differences)


def postings(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = int(conn.scalar(select(func.count()).select_from(Posting)) or 0)
    engine.dispose()
    return count


def report(spent: dict[tuple[str, str], list[float]]) -> None:
    """Medians (and, less moved by a busy machine, the fastest call) of each read, and their ratios."""
    median = {kind: statistics.median(calls) for kind, calls in spent.items()}
    print(f"{'read (ms a call: median, fastest)':<44} {'day 1':>15} {'day 700':>15} {'day 700 / day 1':>22}")
    for name, label in (("projection", "projection row (loan_balances, served)"),
                        ("journal", "journal sum (journal_balances, baseline)")):
        day_1, day_700 = spent[(name, "day 1")], spent[(name, "day 700")]
        print(f"{label:<44} {median[(name, 'day 1')]:>7.3f} {min(day_1):>7.3f} {median[(name, 'day 700')]:>7.3f} "
              f"{min(day_700):>7.3f} {median[(name, 'day 700')] / median[(name, 'day 1')]:>10.2f}x "
              f"{min(day_700) / min(day_1):>10.2f}x")
    ratio = median[("journal", "day 700")] / median[("projection", "day 700")]
    print(f"day 700: the journal sum takes {ratio:.1f}x the projection read (medians)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--aged", type=int, default=1_000, help="loans given 700 days of history")
    parser.add_argument("--samples", type=int, default=200, help="loans read of each age")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes after the first")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not 0 < args.samples <= args.aged <= args.loans // 2:
        parser.error("need 0 < --samples <= --aged <= --loans / 2")
    name = f"lf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        seconds = seed(url, args.loans)
        print(f"seeded {args.loans:,} loans in {seconds:.1f} s ({name})")
        seconds, step = age(url, args.loans, args.aged)
        print(f"gave {args.aged:,} loans {DAYS} days of history ({DAYS * len(DAILY):,} postings each) in "
              f"{seconds:.1f} s; {postings(url):,} postings in the book")
        print(f"PostgreSQL: {server_settings(url)}")
        aged = [step * k for k in range(1, args.samples + 1)]
        new = [loan_id + 1 for loan_id in aged]
        print(f"{args.samples} loans of each age, {args.rounds} timed passes ({load()})")
        report(measure(url, new, aged, args.rounds))
        seconds, ranges, differences = verify(url)
        print(f"verify-projection over the book: {seconds:.1f} s, {ranges} ranges of loan ids, "
              f"{differences} difference(s) ({load()})")
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
