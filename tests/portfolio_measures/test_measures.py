"""The portfolio measures: the set-based SQL mirrors the positions rule, end-of-day records the same
verdicts, and the cockpit and the monthly report show the same figures of the same book (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal as D

from servicing.helpers import seed_calendar, seed_portfolio
from sqlalchemy import select

from admin.kpis import compute
from core.eod import run_eod
from core.loans.delinquency import DEFAULT_CLASSIFICATION
from core.loans.models import FiveTier, Loan
from core.portfolio.measures import Portfolio, Slice, Tally, book_on
from core.portfolio.positions import CLOSED_STATES, position
from plugins.reports.books import iter_loans, principal_balances
from plugins.reports.statistics import monthly_statistics
from tests.plugins_builtin.portfolio import seed

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
MARCH_END = MARCH[1]


def tallied(session, day) -> Portfolio:
    """The book at ``day`` added up from positions rebuilt loan by loan (the reports' path)."""
    tally = Tally(day)
    for chunk in iter_loans(session, opened_by=day, open_after=day):
        balances = principal_balances(session, [loan.id for loan in chunk], day)
        for loan in chunk:
            tally.add(position(loan, day, balances[loan.id], DEFAULT_CLASSIFICATION))
    return tally.portfolio()


def test_the_six_loan_book_at_march_end_measured_both_ways(db_session):
    """At 2026-03-31 (``tests/plugins_builtin/portfolio.py``) A 10,000 and E 2,000 are current, B 4,000 is 26
    days late (M1, 关注) owing installment 3 (1,000 + 60), C 2,000 is 101 days late (M4, 次级) owing
    installments 2 and 3 (2 × (1,000 + 30)); D (prepaid) and F (written off) are off the book. Outstanding
    18,000; M1+ 6,000 = 0.3333; PAR30 and NPL (C) 2,000 = 0.1111; overdue principal 3,000, amount 3,120."""
    seed(db_session)
    db_session.commit()
    book = book_on(db_session, MARCH_END)
    assert book == tallied(db_session, MARCH_END)
    assert book.outstanding == Slice(4, D("18000"))
    assert {name: part for name, part in book.buckets.items() if part.loans} == {
        "M0": Slice(2, D("12000")), "M1": Slice(1, D("4000")), "M4": Slice(1, D("2000"))}
    assert book.five_tier[FiveTier.SUBSTANDARD] == book.non_performing == book.par30 == Slice(1, D("2000"))
    assert book.states == {"active": Slice(2, D("12000")), "overdue": Slice(2, D("6000"))}
    assert (book.m1_plus_ratio, book.par30_ratio, book.npl_ratio) == (D("0.3333"), D("0.1111"), D("0.1111"))
    assert (book.overdue_principal, book.overdue_amount) == (D("3000"), D("3120"))


def test_the_cockpit_and_the_monthly_report_show_the_same_figures_of_the_same_book(db_session):
    """The cockpit at the end of 2026-03-31 and the March statistics: outstanding, the coincident
    delinquency (M1+) rate, the buckets (the cockpit's M3+ is M3 … M7) and the five-tier balances."""
    seed(db_session)
    db_session.commit()
    cockpit = compute(db_session, MARCH_END)
    table = monthly_statistics(db_session, *MARCH, DEFAULT_CLASSIFICATION)
    report = {(row[0], row[1]): row[3:] for row in table.rows}
    assert report["outstanding", "loans"] == (4, cockpit.outstanding, None) and cockpit.outstanding == D("18000")
    assert report["overdue", "M1+"] == (2, cockpit.delinquent_outstanding, cockpit.delinquency_rate)
    by_bucket = {name: report["bucket", name][1] for name in ("M0", "M1", "M2")}
    by_bucket["M3+"] = sum(report["bucket", f"M{k}"][1] for k in range(3, 8))
    assert cockpit.buckets == by_bucket
    assert cockpit.five_tier == {tier.value: report["five_tier", tier.value][1] for tier in FiveTier}


def test_the_sql_and_the_positions_agree_with_what_end_of_day_recorded(db_session):
    """Twelve loans of mixed methods closed day by day by end-of-day to 2026-03-31: each loan's stored
    bucket and class are the cell both measures put it in, and the two measures are equal."""
    seed_calendar(db_session)
    seed_portfolio(db_session, 12)
    run_eod(db_session, MARCH_END)
    db_session.commit()
    book = book_on(db_session, MARCH_END)
    assert book == tallied(db_session, MARCH_END)
    stored = Counter((loan.bucket, FiveTier(loan.five_tier)) for loan in db_session.scalars(
        select(Loan).where(Loan.state.not_in(CLOSED_STATES))))
    assert {cell: part.loans for cell, part in book.cells.items()} == stored
    assert book.delinquent.loans > 0 and book.outstanding.loans == 12
