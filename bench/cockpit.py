"""Benchmark: the portfolio measures of a whole book on PostgreSQL, as the cockpit reads them.

Seeds a fresh PostgreSQL database with ``--loans`` loans (default 100,000) the way ``bench/eod.py`` does
(mixed methods, disbursed in the 28 days before its business date 2026-06-30, about 5% with an installment
left unpaid; no end-of-day has run, so every loan's stored delinquency is still M0), then times the
cockpit's portfolio figures at the end of that date (:func:`core.portfolio.measures.book_on` and
:func:`~core.portfolio.measures.disbursed`, through ``admin.kpis.compute``) three times and prints each
run with the figures and the machine's load. The database is dropped at the end unless ``--keep``. Usage::

    .venv/bin/python bench/cockpit.py [--loans 100000] [--keep]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from admin.kpis import compute
from bench.eod import BUSINESS_DATE, load, scratch_database, seed
from core.db.base import make_engine, make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args, _others = parser.parse_known_args()  # ./dev bench passes every script the same options
    with scratch_database(args.keep) as (url, name):
        print(f"seeded {args.loans:,} loans in {seed(url, args.loans):.1f} s ({name})")
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            for _ in range(3):
                began = time.perf_counter()
                kpis = compute(session, BUSINESS_DATE)
                elapsed = time.perf_counter() - began
                session.rollback()
                print(f"cockpit figures at the end of {BUSINESS_DATE}: {elapsed:.2f} s; outstanding "
                      f"{kpis.outstanding:,.2f}, past due {kpis.delinquent_outstanding:,.2f} ({load()})")
        engine.dispose()


if __name__ == "__main__":
    main()
