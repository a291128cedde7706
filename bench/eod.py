"""Benchmark: one end-of-day over N active loans on PostgreSQL, with 1 and 2 workers.

Seeds a fresh PostgreSQL database with ``--loans`` loans (default 1,000,000) in SQL: mixed
methods (等额本息, 等额本金, 先息后本, 到期还本付息), amounts and disbursement dates in the 28 days before the
business date, and about 5% of them with an installment left unpaid (overdue, so the run charges
penalty, moves them to ``overdue`` and classifies them). Each loan has its disbursement entry in the
journal and its row in the balance projection, so the tables are the size a real book would have.

Then it closes business date D with one worker process and D+1 with two (the same book, one day later;
each a full end-of-day of every loan: interest accrual, due installments, penalty, delinquency) and prints
loans/s and ledger rows/s (entries + postings written), beside the time of a raw-SQL lower bound measured
in the same run: one set-based ``INSERT .. SELECT`` writing an accrual row per loan. Under each night it prints
the WAL the server wrote (bytes, full-page images), the checkpoints it took, and how busy the machine's cores
were and how long they waited for I/O (``/proc/stat``). Before them it closes
D-1 with two workers and prints it apart (``--no-warm-up`` skips it): the first end-of-day after seeding
rewrites every freshly packed row version, which a book closed every day never does. The database is
dropped at the end unless ``--keep``. Each run appends its figures to ``bench/results/eod.csv``. Usage::

    .venv/bin/python bench/eod.py [--loans 1000000] [--partition-size 50000] [--keep] [--no-warm-up]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _record import record
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.businessday.calendar import seed_calendar
from core.customers.parties import Customer
from core.db.base import Base, make_engine, make_session_factory
from core.ledger import JournalEntry, Posting
from core.ledger.accounts import PRINCIPAL_RECEIVABLE, cash_clearing
from core.loans.contract import Contract, ServicingRules
from core.schedule import LoanTerms, build_schedule
from loanfactory.app import create_app
from loanfactory.tasks.eod import run_locally

ADMIN = os.environ.get("LOANFACTORY_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BUSINESS_DATE = date(2026, 6, 30)
METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
INSTALLMENT_COLUMNS = ("loan_id", "period", "start", "due_date", "principal", "interest", "fee", "penalty",
                       "interest_accrued", "paid_principal", "paid_interest", "paid_fee", "paid_penalty",
                       "waived_penalty", "status")


def templates() -> list[tuple[LoanTerms, Any, bool]]:
    """Loan shapes: every method × 8 amounts × 28 start days; overdue ones start 45 days earlier."""
    shapes = []
    for overdue in (False, True):
        for k, method in enumerate(METHODS):
            for amount in range(8):
                for day in range(28):
                    start = BUSINESS_DATE - timedelta(days=1 + day + (45 if overdue else 0))
                    periods = {"bullet": 90, "interest_only": 6}.get(method, 12)
                    terms = LoanTerms(Decimal(5000 + 3700 * amount), Decimal(("0.0435", "0.12", "0.18", "0.24")[k]),
                                      periods, start, method=method,
                                      frequency="daily" if method == "bullet" else "monthly")
                    shapes.append((terms, build_schedule(terms), overdue))
    return shapes


_SEED = """
CREATE TEMP TABLE bench_loan_shape AS
    SELECT g AS loan_id,
           CASE WHEN mod(g, 20) = 0 THEN %(current)s + mod(g, %(late)s) ELSE mod(g, %(current)s) END AS shape
    FROM generate_series(1, %(count)s) AS g;
INSERT INTO loans (id, customer_id, product_code, product_version_id, terms, rounding, currency, principal,
                   annual_rate, method, payment_channel, state, disbursed_on, maturity_date, days_past_due, bucket,
                   five_tier)
    SELECT m.loan_id, %(customer)s, 'bench', 1, CAST(s.terms AS json),
           json_extract_path_text(CAST(s.terms AS json), 'schedule', 'rounding'), 'CNY', s.principal,
           s.annual_rate, s.method, 'sandbox_bank', 'active', s.start, s.maturity, 0, 'M0', 'normal'
    FROM bench_loan_shape m JOIN bench_shapes s USING (shape) ORDER BY m.loan_id;
INSERT INTO loan_installments ({installment_columns})
    SELECT m.loan_id, r.period, r.start, r.due_date, r.principal, r.interest, r.fee, 0, 0, 0, 0, 0, 0, 0, 'pending'
    FROM bench_loan_shape m JOIN bench_rows r USING (shape) ORDER BY m.loan_id, r.period;
INSERT INTO ledger_entries (id, idempotency_key, event, loan_id, business_date, fingerprint)
    SELECT m.loan_id, 'bench-disbursement-' || m.loan_id, 'disbursement', m.loan_id, s.start,
           md5(CAST(m.loan_id AS text))
    FROM bench_loan_shape m JOIN bench_shapes s USING (shape) ORDER BY m.loan_id;
INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit)
    SELECT m.loan_id, v.account, v.loan_id, v.debit, v.credit
    FROM bench_loan_shape m JOIN bench_shapes s USING (shape)
    CROSS JOIN LATERAL (VALUES (%(principal_account)s, m.loan_id, s.principal, 0),
                               (%(clearing)s, NULL, 0, s.principal)) AS v (account, loan_id, debit, credit)
    ORDER BY m.loan_id;
INSERT INTO loan_balances (loan_id, principal, interest, fee, penalty, suspense)
    SELECT m.loan_id, s.principal, 0, 0, 0, 0 FROM bench_loan_shape m JOIN bench_shapes s USING (shape)
    ORDER BY m.loan_id;
SELECT setval(pg_get_serial_sequence('loans', 'id'), %(count)s);
SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), %(count)s)
"""


_SEEDED = ["loans", "loan_installments", "ledger_entries", "ledger_postings", "loan_balances"]


def _drop_secondary_indexes(cursor: Any) -> list[str]:
    """Drop the seeded tables' foreign keys, unique constraints and plain indexes (primary keys stay);
    returns the statements that put them back, to run once the rows are in (a bulk build is many times
    faster than maintaining them row by row)."""
    cursor.execute("SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('u', 'f') ORDER BY contype DESC",
                   (_SEEDED,))
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
                   "(SELECT conname FROM pg_constraint)", (_SEEDED,))
    indexes = cursor.fetchall()
    for table, name, _, _ in constraints:  # foreign keys first (ORDER BY contype DESC), then unique ones
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return ([definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for table, name, _, definition in reversed(constraints)])


def seed(url: str, count: int) -> float:
    """Seed ``count`` loans with schedules, disbursement entries and projection rows; returns seconds.

    The loan shapes (:func:`templates`) are copied to two small tables; every other row is generated in
    SQL (``generate_series``): loan ``n`` has shape ``n mod 896``, or an overdue one when ``n`` is a multiple
    of 20.
    """
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    began = time.perf_counter()
    with make_session_factory(engine)() as session:
        seed_calendar(session, date(2026, 1, 1), date(2026, 12, 31))
        person = Customer(name="基准", id_number="11010519491231002X", phone="13812345678")
        session.add(person)
        session.commit()
        customer_id = person.id
    shapes = templates()
    current = sum(1 for shape in shapes if not shape[2])
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("CREATE TEMP TABLE bench_shapes (shape integer, terms text, principal numeric, "
                   "annual_rate numeric, method varchar, start date, maturity date)")
    cursor.execute("CREATE TEMP TABLE bench_rows (shape integer, period integer, start date, due_date date, "
                   "principal numeric, interest numeric, fee numeric)")
    rules = ServicingRules()
    with cursor.copy("COPY bench_shapes FROM STDIN") as copy:
        for number, (terms, schedule, _) in enumerate(shapes):
            copy.write_row((number, json.dumps(Contract(terms, rules).to_json()), terms.principal, terms.annual_rate,
                            terms.method.value, terms.start_date, schedule.maturity_date))
    with cursor.copy("COPY bench_rows FROM STDIN") as copy:
        for number, (_, schedule, _) in enumerate(shapes):
            for row in schedule.installments:
                copy.write_row((number, row.period, row.start, row.due_date, row.principal, row.interest, row.fee))
    statements = _SEED.format(installment_columns=", ".join(INSTALLMENT_COLUMNS))
    params = {"count": count, "current": current, "late": len(shapes) - current, "customer": customer_id,
              "principal_account": PRINCIPAL_RECEIVABLE, "clearing": cash_clearing("sandbox_bank")}
    rebuild = _drop_secondary_indexes(cursor)
    # no triggers while seeding: each disbursement entry balances by construction, and the foreign keys
    # are checked when they are added back
    cursor.execute("SET LOCAL session_replication_role = replica")
    for statement in statements.split(";\n"):
        cursor.execute(statement, params)
    for statement in rebuild:
        cursor.execute(statement)
    raw.commit()
    cursor.execute("ANALYZE")
    raw.commit()
    raw.close()
    engine.dispose()
    return time.perf_counter() - began


def ledger_rows(url: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(JournalEntry)) or 0
        rows += conn.scalar(select(func.count()).select_from(Posting)) or 0
    engine.dispose()
    return int(rows)


def lower_bound(url: str, on: date) -> float:
    """One set-based INSERT .. SELECT of an accrual row per open loan (the floor any EOD must pay)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_accrual_floor (loan_id integer, business_date date, amount numeric)"))
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_accrual_floor SELECT id, :on, round(principal * annual_rate / 360, 2) "
                          "FROM loans WHERE state IN ('active', 'overdue')"), {"on": on})
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


#: the figures of each night in bench/results/eod.csv (prefixed ``first_``, ``w1_``, ``w2_``)
NIGHT_COLUMNS = ("s", "loans_per_s", "ledger_rows_per_s", "x_lower_bound", "load", "wal_gb", "fpi", "checkpoints",
                 "busy_pct", "iowait_pct")

#: the server settings that move the figures (shared memory, checkpoints, vacuum), printed with them
SETTINGS = ("server_version", "shared_buffers", "max_wal_size", "checkpoint_timeout", "autovacuum",
            "synchronous_commit")


def server_settings(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        shown = [f"{name}={conn.exec_driver_sql(f'SHOW {name}').scalar()}" for name in SETTINGS]
    engine.dispose()
    return " ".join(shown)


def load() -> str:
    """The 1-minute load average (other processes on the machine skew every figure)."""
    return f"load {os.getloadavg()[0]:.2f}"


def server_activity(url: str) -> dict[str, int]:
    """The server's WAL written (bytes, full-page images) and checkpoints so far, and the machine's CPU
    time by kind (``/proc/stat``, in clock ticks: busy, I/O wait, idle)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        wal = conn.execute(text("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")).one()
        checkpoints = conn.scalar(text("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"))
    engine.dispose()
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return {"wal_bytes": int(wal[0]), "wal_fpi": int(wal[1]), "checkpoints": int(checkpoints or 0),
            "busy": sum(ticks[:8]) - idle - iowait, "iowait": iowait, "idle": idle}


def night_activity(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """What one night cost the server and the machine, from two :func:`server_activity` readings."""
    moved = {key: after[key] - before[key] for key in before}
    total = (moved["busy"] + moved["iowait"] + moved["idle"]) or 1
    return {"wal_gb": moved["wal_bytes"] / 1e9, "fpi": moved["wal_fpi"], "checkpoints": moved["checkpoints"],
            "busy_pct": 100 * moved["busy"] / total, "iowait_pct": 100 * moved["iowait"] / total}


def activity_line(night: dict[str, float]) -> str:
    return (f"    WAL {night['wal_gb']:.2f} GB ({night['fpi']:,} full-page images), "
            f"{night['checkpoints']} checkpoints; the cores {night['busy_pct']:.0f}% busy, "
            f"{night['iowait_pct']:.0f}% I/O wait")


def run(url: str, on: date, workers: int, size: int) -> tuple[float, int, int, dict[str, float]]:
    app = create_app({"DATABASE_URL": url, "AUTO_CREATE_TABLES": False, "DEMO": True})
    before, activity = ledger_rows(url), server_activity(url)
    began = time.perf_counter()
    report = run_locally(app, on, workers=workers, size=size)
    elapsed = time.perf_counter() - began
    return elapsed, report.loans, ledger_rows(url) - before, night_activity(activity, server_activity(url))


@contextmanager
def scratch_database(keep: bool) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database on the server at :data:`ADMIN`: ``(url, name)``; dropped afterwards
    unless ``keep``."""
    name = f"lf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN.rsplit("/", 1)[0] + "/" + name, name
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--partition-size", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="skip the first end-of-day after seeding (D-1, two workers, printed apart)")
    args = parser.parse_args()
    with scratch_database(args.keep) as (url, name):
        seconds = seed(url, args.loans)
        print(f"seeded {args.loans:,} loans in {seconds:.1f} s ({name})")
        settings = server_settings(url)
        print(f"PostgreSQL: {settings}")
        floor = lower_bound(url, BUSINESS_DATE)
        floor_load = os.getloadavg()[0]
        print(f"raw-SQL lower bound (INSERT .. SELECT, one accrual row per loan): {floor:.2f} s "
              f"({args.loans / floor:,.0f} loans/s; load {floor_load:.2f})")
        row: dict[str, object] = {"loans": args.loans, "partition_size": args.partition_size,
                                  "warm_up": not args.no_warm_up, "server": settings, "seed_s": round(seconds, 1),
                                  "lower_bound_s": round(floor, 3),
                                  "lower_bound_loans_per_s": round(args.loans / floor),
                                  "lower_bound_load": round(floor_load, 2)}
        runs = [(2, BUSINESS_DATE - timedelta(days=1), " (first after seeding)", "first")]
        runs += [(1, BUSINESS_DATE, "", "w1"), (2, BUSINESS_DATE + timedelta(days=1), "", "w2")]
        for workers, on, note, column in runs:
            figures: dict[str, object] = dict.fromkeys(NIGHT_COLUMNS, "")
            if column != "first" or not args.no_warm_up:
                elapsed, loans, rows, activity = run(url, on, workers, args.partition_size)
                after = os.getloadavg()[0]  # the 1-minute load average: other processes skew every figure
                print(f"EOD {on} with {workers} worker{'s' if workers > 1 else ''}{note}: {elapsed:.1f} s for "
                      f"{loans:,} loans: {loans / elapsed:,.0f} loans/s, {rows / elapsed:,.0f} ledger rows/s "
                      f"({rows:,} rows), {elapsed / floor:.1f}x the lower bound (load {after:.2f})")
                print(activity_line(activity))
                figures = {"s": round(elapsed, 1), "loans_per_s": round(loans / elapsed),
                           "ledger_rows_per_s": round(rows / elapsed), "x_lower_bound": round(elapsed / floor, 1),
                           "load": round(after, 2), "wal_gb": round(activity["wal_gb"], 2),
                           "fpi": activity["fpi"], "checkpoints": activity["checkpoints"],
                           "busy_pct": round(activity["busy_pct"]), "iowait_pct": round(activity["iowait_pct"])}
            row |= {f"{column}_{name}": value for name, value in figures.items()}
        print(f"recorded in {record('eod', row)}")


if __name__ == "__main__":
    main()
