"""Benchmark: the due run of automatic debits (代扣) on a PostgreSQL book, beside the end-of-day of the same book.

Seeds a fresh database with ``--loans`` loans exactly as ``bench/eod.py`` does (mixed methods, starts over the
28 days before 2026-06-30, one in twenty with an installment unpaid), gives every loan an application, a live
debit authorisation and the CONSUMER_INSTALLMENT debit policy (D+0 at 09:00 and 15:00, D+1, D+3, D+7, then
weekly; batches of ``--batch-size``), and binds the card at the embedded sandbox bank. Then, in one run:

1. end-of-day of 2026-06-30 and 2026-07-01 with two workers (the baseline: a night of the same book);
2. the due run of 2026-07-02 at 10:00 with two workers: every installment falling due that day (the loans
   that started on 2026-06-02, about 1/28 of the monthly ones) and every overdue installment whose next
   attempt has come get an instruction, sent to the bank in batches;
3. the bank settles, and every answer is posted: two workers ask after the instructions with
   ``payment_query`` (``query_after_minutes`` 0) and post each success through the ordinary repayment.

It prints each step's time, instructions and repayments a second, and each step's ratio to the end-of-day
night, and appends the figures to ``bench/results/due_run.csv``. The database is dropped unless ``--keep``.
Usage::

    .venv/bin/python bench/due_run.py [--loans 30000] [--batch-size 1000] [--keep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _record import record
from eod import BUSINESS_DATE, scratch_database, seed
from eod import run as eod_night
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.customers.pii import EncryptedString
from core.db.base import make_engine, make_session_factory
from core.debits.dispatch import query_silent
from core.debits.models import DebitInstruction
from core.loans.events import ServicingEvent
from core.products.models import ProductVersion
from core.products.validate import read_document
from loanfactory.app import create_app
from loanfactory.plugins_host import get_plugins
from loanfactory.tasks.debits import run_locally
from plugins.sandbox_bank.bank import open_bank

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE_DAY = BUSINESS_DATE + timedelta(days=2)
CARD, HOLDER = "6222020200112233445", "基准"
SAMPLE = Path(__file__).resolve().parents[1] / "product_configs" / "consumer_installment.json"


def authorise(url: str, batch_size: int) -> None:
    """Applications, authorisations and the product version the seeded loans need to be debited."""
    engine = make_engine(url)
    document = read_document(SAMPLE)
    document["debit"]["batch_size"] = batch_size
    document["debit"]["query_after_minutes"] = 1
    with make_session_factory(engine)() as session:
        session.add(ProductVersion(id=1, code="bench", version=1, status="published", document=document,
                                   created_by="bench", created_at=datetime.now(UTC), submitted_by="maker",
                                   approved_by="checker"))
        session.commit()
        dialect = session.get_bind().dialect
        account = EncryptedString("debit_authorisations.account_number").process_bind_param(CARD, dialect)
        holder = EncryptedString("debit_authorisations.holder_name").process_bind_param(HOLDER, dialect)
        session.execute(text(
            "INSERT INTO applications (id, customer_id, channel, product_code, product_version_id, amount, term, "
            "method, state) SELECT id, customer_id, 'bench', 'bench', 1, principal, 12, method, 'disbursed' "
            "FROM loans"))
        session.execute(text("UPDATE loans SET application_id = id"))
        session.execute(text(
            "INSERT INTO debit_authorisations (application_id, bank_code, account_number, holder_name, account_tail, "
            "consent_text, contract_sha256, granted_at, channel, granted_by) SELECT id, 'ICBC', :account, :holder, "
            "'3445', 'bench', repeat('0', 64), now(), 'api', 'bench' FROM applications"),
            {"account": account, "holder": holder})
        session.execute(text("SELECT setval(pg_get_serial_sequence('applications', 'id'), "
                             "(SELECT max(id) FROM applications))"))
        with open_bank({}, datetime.now(SHANGHAI), session) as bank:
            bank.bind_card(CARD, HOLDER)
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()


_APP: dict[str, object] = {}


def _post_answers(worker: int) -> int:
    """Ask after every silent instruction and post each answer, 200 at a time, a commit each."""
    app = _APP["app"]
    at = datetime.combine(DUE_DAY, datetime.min.time(), SHANGHAI) + timedelta(hours=11)
    changed = 0
    with app.app_context():  # type: ignore[attr-defined]
        factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))  # type: ignore[attr-defined]
        while True:
            with factory() as session:
                done = query_silent(session, get_plugins(app),  # type: ignore[arg-type]
                                    wait={1: timedelta(0)}, today=DUE_DAY, now=at, limit=200)
                session.commit()
            changed += done
            if not done:
                return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=30_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--partition-size", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with scratch_database(args.keep) as (url, name):
        seconds = seed(url, args.loans)
        authorise(url, args.batch_size)
        print(f"seeded {args.loans:,} loans with authorisations in {seconds:.1f} s ({name})")
        eod_s = 0.0
        for on in (BUSINESS_DATE, BUSINESS_DATE + timedelta(days=1)):
            elapsed, loans, _rows, _ = eod_night(url, on, 2, args.partition_size)
            print(f"EOD {on} with 2 workers: {elapsed:.1f} s for {loans:,} loans ({loans / elapsed:,.0f} loans/s)")
            eod_s = elapsed  # the second night is the baseline (the first rewrites every freshly seeded row)
        app = create_app({"DATABASE_URL": url, "AUTO_CREATE_TABLES": False, "DEMO": True})
        at = datetime.combine(DUE_DAY, datetime.min.time(), SHANGHAI) + timedelta(hours=10)
        get_plugins(app).clock = lambda: at
        began = time.perf_counter()
        report = run_locally(app, DUE_DAY, hour=10, now=at, workers=2)
        run_s = time.perf_counter() - began
        print(f"due run {DUE_DAY} 10:00 with 2 workers: {run_s:.1f} s: {report.created:,} instructions, "
              f"{report.sent:,} sent in {report.batches} batches ({report.created / run_s:,.0f} instructions/s), "
              f"{run_s / eod_s:.2f}x the EOD night; by step (s): "
              + ", ".join(f"{step} {value:.1f}" for step, value in report.seconds.items())
              + f"; {report.messages_planned:,} messages planned, {report.messages_sent:,} sent")
        _APP["app"] = app
        get_plugins(app).clock = lambda: at + timedelta(hours=1)
        began = time.perf_counter()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            answered = sum(pool.map(_post_answers, range(2)))
        post_s = time.perf_counter() - began
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            repayments = session.scalar(select(func.count()).select_from(ServicingEvent).where(
                ServicingEvent.kind == "repayment"))
            states = dict(session.execute(select(DebitInstruction.state, func.count()).group_by(
                DebitInstruction.state)).tuples().all())
        engine.dispose()
        print(f"answers posted with 2 workers: {post_s:.1f} s: {answered:,} answers, {repayments:,} repayments "
              f"({repayments / post_s:,.1f} repayments/s), {post_s / eod_s:.2f}x the EOD night; states {states}")
        day_s = eod_s + run_s + post_s
        print(f"the business day (EOD + due run + posting): {day_s:.1f} s, {day_s / eod_s:.2f}x the EOD night alone")
        row = {"loans": args.loans, "batch_size": args.batch_size, "eod_s": round(eod_s, 1),
               "instructions": report.created, "run_s": round(run_s, 1), "repayments": repayments,
               "post_s": round(post_s, 1), "day_s": round(day_s, 1), "run_x_eod": round(run_s / eod_s, 2),
               "post_x_eod": round(post_s / eod_s, 2)}
        print(f"recorded in {record('due_run', row)}")


if __name__ == "__main__":
    main()
