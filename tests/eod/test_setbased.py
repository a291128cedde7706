"""The SQL path of end-of-day (quiet loans, PostgreSQL) against the Python rule, to the fen and to the byte.

The same portfolio (every method, every rounding mode, loans paid on time and loans left overdue) is
booked in three databases and closed over the same 15 days (first installments falling due, some paid,
some left overdue): PostgreSQL with the SQL path for the quiet
loans, PostgreSQL with the Python rule for every loan, and SQLite (always the Python rule). The journals
(keys, events, dates, fingerprints, every posting) and the books (installments, balances, states,
buckets, classes) must be identical.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from servicing.helpers import book, books_picture, check_books, customer, seed_calendar, seed_portfolio
from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session

import core.eod.partition
from core.daycount import DayCount
from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from core.eod.overdue import OverdueResult, exact_rate_fraction
from core.eod.partition import close_loans
from core.eod.setbased import _TARGET, accrue_quiet_loans, compress_full_page_images
from core.errors import InvalidArgumentError
from core.ledger import (
    IdempotencyConflictError,
    JournalEntry,
    LoanBalance,
    Posting,
    compare_projection,
    loan_balances,
    trial_balance,
)
from core.ledger.accounts import INTEREST_INCOME, INTEREST_RECEIVABLE, PENALTY_INCOME, PENALTY_RECEIVABLE
from core.ledger.set_posting import post_pairs
from core.loans.accrual import accrued_target
from core.loans.contract import Contract, ServicingRules
from core.loans.disbursement import disburse
from core.loans.errors import StoredContractError
from core.loans.events import LoanServicingState, ServicingEvent
from core.loans.models import Loan
from core.loans.penalty import PenaltyPolicy
from core.loans.reversal import reverse_repayment
from core.rounding import Rounding
from core.schedule import LoanTerms

pytestmark = pytest.mark.postgres
DAYS = (date(2026, 1, 29), date(2026, 2, 12))


def book_roundings(session: Session) -> None:
    """One 3,333.33 loan at 13.33% per rounding mode, so the day's fraction of a fen is often a half."""
    for k, mode in enumerate(Rounding):
        terms = LoanTerms(D("3333.33"), D("0.1333"), 6, date(2026, 1, 3 + k), rounding=mode)
        disburse(session, key=f"round-{mode.value}", customer_id=customer(session), terms=terms,
                 channel="sandbox_bank", actor="tests", product_code="cash", product_version_id=1)


def book_penalty_rules(session: Session) -> None:
    """Loans never paid, overdue from 01-10 under other penalty rules: 复利 at 2x, a 25-day grace charged
    back on day 26, a 5-day grace not charged back, a fixed 0.05% a day, and ACT/365F (whose daily rate
    0.18 × 1.5 / 365 does not end, so its loan keeps the Python rule)."""
    rules = [PenaltyPolicy(multiplier=D("2"), compound=True), PenaltyPolicy(grace_days=25),
             PenaltyPolicy(grace_days=5, grace_retroactive=False), PenaltyPolicy(daily_rate=D("0.0005"))]
    for k, penalty in enumerate(rules):
        book(session, principal="8000.00", rate="0.18", start=date(2025, 12, 10), key=f"penalty-{k}",
             rules=ServicingRules(penalty=penalty))
    terms = LoanTerms(D("8000.00"), D("0.18"), 12, date(2025, 12, 10), day_count=DayCount.ACT_365F)
    disburse(session, key="penalty-365", customer_id=customer(session), terms=terms, channel="sandbox_bank",
             actor="tests", product_code="cash", product_version_id=1)


def journal(session: Session) -> list[tuple[object, ...]]:
    lines: dict[int, list[tuple[object, ...]]] = {}
    for posting in session.scalars(select(Posting)):
        lines.setdefault(posting.entry_id, []).append((posting.account, posting.loan_id, posting.debit, posting.credit))
    return sorted((e.idempotency_key, e.event, e.loan_id, e.business_date, e.fingerprint, sorted(lines[e.id]))
                  for e in session.scalars(select(JournalEntry)))


def close_books(url: str, set_based: bool | None) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        seed_portfolio(session, 16)
        book_roundings(session)
        for start in (date(2025, 12, 29), date(2026, 1, 12)):  # a 5.00 fee falls due on each day closed
            book(session, principal="6000.00", start=start, fee_per_period="5.00", key=f"fee-{start}")
        book_penalty_rules(session)
        session.commit()
        for day in DAYS:
            run_eod(session, day, partition_size=10, set_based=set_based)
            session.commit()
            if day == DAYS[0]:  # the first seed loan's repayment reversed: its later accruals carry :g1 keys
                paid = session.scalars(select(ServicingEvent).where(ServicingEvent.request_key == "seed-pay-0")).one()
                reverse_repayment(session, loan_id=paid.loan_id, repayment_id=paid.id, on=date(2026, 2, 1),
                                  key="rev-0", actor="tests")
                session.commit()
        check_books(session)
        result = journal(session), books_picture(session)
    engine.dispose()
    return result


def test_the_sql_path_posts_the_same_journal_and_books_as_the_python_rule(postgres_url, second_postgres_url,
                                                                         tmp_path, monkeypatch):
    handled: list[int] = []
    fallen: list[tuple[int, int]] = []
    overdue: list[OverdueResult] = []

    def counting(*args, **kwargs):
        result = accrue_quiet_loans(*args, **kwargs)
        handled.append(result.loans)
        fallen.append((result.fallen_due, result.fees))
        overdue.append(result.overdue)
        return result

    monkeypatch.setattr(core.eod.partition, "accrue_quiet_loans", counting)
    set_based = close_books(postgres_url, None)
    assert sum(handled) > 16 * 10  # most loan-days were quiet ...
    python = close_books(second_postgres_url, False)
    assert sum(handled) < 20 * 15  # ... not all of them (overdue loans), and the flag was obeyed
    assert sum(loans for loans, _ in fallen) > 0 and sum(fees for _, fees in fallen) > 0  # fees fell due in SQL
    assert sum(o.penalties for o in overdue) > 20 and sum(o.reclassified for o in overdue) > 20
    embedded = close_books(f"sqlite:///{tmp_path}/books.sqlite3", None)
    assert set_based[0] == python[0] == embedded[0]
    assert set_based[1] == python[1] == embedded[1]
    accruals = [entry for entry in set_based[0] if entry[1] == "eod_accrual"]
    assert len(accruals) > 200 and any(str(entry[0]).endswith(":g1") for entry in accruals)


@pytest.fixture
def pg_session(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        yield session
    engine.dispose()


def amounts(session: Session, rows: list[tuple[int, str, str]]) -> str:
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS t_amounts (loan_id integer, key varchar, amount numeric)"))
    session.execute(text("DELETE FROM t_amounts"))
    session.execute(text("INSERT INTO t_amounts VALUES (:loan, :key, CAST(:amount AS numeric))"),
                    [{"loan": loan, "key": key, "amount": amount} for loan, key, amount in rows])
    return "t_amounts"


def test_post_pairs_posts_once_per_key_and_refuses_a_different_entry_under_a_posted_key(pg_session):
    """12,000.00 at 12% from 01-15: accruals of 3.33 posted twice post once; 3.34 under the same key conflicts."""
    session = pg_session
    terms = LoanTerms(D("12000.00"), D("0.12"), 12, date(2026, 1, 15))
    loan = disburse(session, key="d1", customer_id=customer(session), terms=terms, channel="sandbox_bank",
                    actor="tests", product_code="cash", product_version_id=1)
    source = amounts(session, [(loan.id, "acc:1", "3.33")])
    first = post_pairs(session, source, event="eod_accrual", business_date=date(2026, 1, 16),
                       debit=INTEREST_RECEIVABLE, credit=INTEREST_INCOME)
    again = post_pairs(session, source, event="eod_accrual", business_date=date(2026, 1, 16),
                       debit=INTEREST_RECEIVABLE, credit=INTEREST_INCOME)
    assert (first.wanted, first.inserted, again.inserted) == (1, 1, 0)
    assert loan_balances(session, loan.id).interest == D("3.33")
    session.commit()
    assert trial_balance(session).difference == 0 and compare_projection(session) == []
    with pytest.raises(IdempotencyConflictError):
        post_pairs(session, amounts(session, [(loan.id, "acc:1", "3.34")]), event="eod_accrual",
                   business_date=date(2026, 1, 16), debit=INTEREST_RECEIVABLE, credit=INTEREST_INCOME)
    session.rollback()
    for bad in ("0", "-1.00", "0.00001"):
        with pytest.raises(InvalidArgumentError):
            post_pairs(session, amounts(session, [(loan.id, "acc:2", bad)]), event="eod_accrual",
                       business_date=date(2026, 1, 17), debit=INTEREST_RECEIVABLE, credit=INTEREST_INCOME)
        session.rollback()


def test_post_pairs_posts_the_new_keys_of_a_source_around_keys_posted_before(pg_session):
    """A source whose key range holds posted keys (its own ``acc:2``, another's ``acc:3``) posts ``acc:1``,
    ``acc:4`` and ``acc:5`` once each and skips ``acc:2``; one whose range holds none posts every key."""
    session = pg_session
    terms = LoanTerms(D("12000.00"), D("0.12"), 12, date(2026, 1, 15))
    loan = disburse(session, key="d1", customer_id=customer(session), terms=terms, channel="sandbox_bank",
                    actor="tests", product_code="cash", product_version_id=1)
    pair = {"event": "eod_accrual", "business_date": date(2026, 1, 16), "debit": INTEREST_RECEIVABLE,
            "credit": INTEREST_INCOME}
    post_pairs(session, amounts(session, [(loan.id, "acc:2", "1.00"), (loan.id, "acc:3", "2.00")]), **pair)
    mixed = post_pairs(session, amounts(session, [(loan.id, f"acc:{n}", "1.00") for n in (1, 2, 4, 5)]), **pair)
    fresh = post_pairs(session, amounts(session, [(loan.id, f"acc:{n}", "0.10") for n in (6, 7)]), **pair)
    assert (mixed.wanted, mixed.inserted, fresh.wanted, fresh.inserted) == (4, 3, 2, 2)
    keys = session.scalars(select(JournalEntry.idempotency_key).where(JournalEntry.event == "eod_accrual")
                           .order_by(JournalEntry.idempotency_key)).all()
    assert keys == [f"acc:{n}" for n in range(1, 8)]
    assert loan_balances(session, loan.id).interest == D("6.20")
    session.commit()
    assert trial_balance(session).difference == 0 and compare_projection(session) == []


def test_post_pairs_adds_to_the_projection_row_or_creates_it_and_sums_a_loans_keys(pg_session):
    """Two keys of one loan add both amounts to its row (3.33 + 1.20); a loan without a projection row gets
    one (the penalty pair moves penalty receivable only: 0.50); the journal and the projection agree."""
    session = pg_session
    terms = LoanTerms(D("12000.00"), D("0.12"), 12, date(2026, 1, 15))
    loans = [disburse(session, key=f"d{n}", customer_id=customer(session),
                      terms=terms, channel="sandbox_bank", actor="tests", product_code="cash",
                      product_version_id=1) for n in (1, 2)]
    session.execute(delete(LoanBalance).where(LoanBalance.loan_id == loans[1].id))
    post_pairs(session, amounts(session, [(loans[0].id, "acc:1", "3.33"), (loans[0].id, "acc:2", "1.20")]),
               event="eod_accrual", business_date=date(2026, 1, 16), debit=INTEREST_RECEIVABLE,
               credit=INTEREST_INCOME)
    assert loan_balances(session, loans[0].id).interest == D("4.53")
    assert loan_balances(session, loans[0].id).principal == D("12000.00")
    post_pairs(session, amounts(session, [(loans[1].id, "pen:1", "0.50")]), event="eod_penalty",
               business_date=date(2026, 1, 16), debit=PENALTY_RECEIVABLE, credit=PENALTY_INCOME)
    created = session.get(LoanBalance, loans[1].id)
    assert (created.principal, created.interest, created.penalty) == (0, 0, D("0.50"))
    session.commit()
    assert trial_balance(session).difference == 0
    assert [(d.loan_id, d.bucket, d.projection) for d in compare_projection(session)] == [(loans[1].id, "principal", 0)]


def test_a_replayed_loan_accrues_in_sql_under_its_generation_key(pg_session):
    """A loan whose events were replayed twice (generation 2) posts ``eod:<date>:accrual:<loan>:g2``:
    12,000.00 at 12% from 01-15, period 1 of 31 days earns 120.00, day 1 is round(120 / 31) = 3.87."""
    session = pg_session
    terms = LoanTerms(D("12000.00"), D("0.12"), 12, date(2026, 1, 15))
    loan = disburse(session, key="d1", customer_id=customer(session), terms=terms, channel="sandbox_bank",
                    actor="tests", product_code="cash", product_version_id=1)
    session.add(LoanServicingState(loan_id=loan.id, generation=2))
    session.flush()
    result = close_loans(session, date(2026, 1, 16), lo=1, hi=100)
    assert (result.loans, result.entries, result.step("accrual")) == (1, 1, (1, 1))
    entry = session.scalars(select(JournalEntry).where(JournalEntry.event == "eod_accrual")).one()
    assert entry.idempotency_key == f"eod:2026-01-16:accrual:{loan.id}:g2"
    assert loan_balances(session, loan.id).interest == D("3.87")


def test_the_sql_target_rounds_exactly_like_the_python_one_in_every_mode(pg_session):
    """4,000 periods (interest up to 10^8 with 4 places, 1 to 400 days, every elapsed day, every mode),
    half of them with interest × elapsed / days exactly on a half fen, evaluated by the SQL of the
    set-based accrual and by :func:`core.loans.accrual.accrued_target`."""
    rng = random.Random(20260630)
    cases = []
    for k in range(4000):
        days = rng.randint(2, 400)
        if k % 2:  # a tie: elapsed divides days × 50, interest = (2m + 1) × days × 50 / elapsed × 10^-4
            elapsed = rng.choice([e for e in range(1, days) if days * 50 % e == 0])
            units = (2 * rng.randint(0, 10**5) + 1) * days * 50 // elapsed
            assert D(units) / 10000 * elapsed / days % D("0.01") == D("0.005")
        else:
            elapsed, units = rng.randint(1, days - 1), rng.randint(0, 10**12)
        cases.append({"k": k, "rounding": list(Rounding)[k % 4].value, "interest": D(units) / 10000,
                      "elapsed": elapsed, "days": days})
    session = pg_session
    session.execute(text("CREATE TEMP TABLE t_cases (k integer, rounding text, interest numeric(20, 4), "
                         "elapsed integer, days integer)"))
    session.execute(text("INSERT INTO t_cases VALUES (:k, :rounding, :interest, :elapsed, :days)"), cases)
    got = dict(session.execute(text(
        f"SELECT q.k, ({_TARGET}) * 0.01 FROM t_cases q "
        "CROSS JOIN LATERAL (SELECT q.interest * 10000 * q.elapsed AS n, q.days * 100 AS d) f")).all())
    start = date(2026, 1, 1)
    for case in cases:
        expected = accrued_target(case["interest"], start, start + timedelta(days=case["days"]),
                                  start + timedelta(days=case["elapsed"]), Rounding(case["rounding"]))
        assert got[case["k"]] == expected, case


def test_a_loan_keeps_its_contracts_rounding_mode_and_rate_in_columns(postgres_url):
    """The SQL paths read ``loans.rounding`` and ``loans.annual_rate``; the model writes them from the contract."""
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        book_roundings(session)
        session.flush()
        loans = session.scalars(select(Loan)).all()
        assert sorted(loan.rounding for loan in loans) == sorted(mode.value for mode in Rounding)
        assert all((loan.rounding, loan.annual_rate) == (loan.contract.terms.rounding.value,
                                                         loan.contract.terms.annual_rate) for loan in loans)
    engine.dispose()


def penalty_text(**settings: object) -> str:
    """A penalty policy's section as the loan's contract stores it and :data:`SQL_PENALTY` reads it."""
    contract = Contract(LoanTerms(D("1000.00"), D("0.12"), 1, date(2026, 1, 1)),
                        ServicingRules(penalty=PenaltyPolicy(**settings)))
    return json.dumps(contract.to_json()["penalty"])


@pytest.mark.parametrize(("annual_rate", "penalty", "day_count", "expected"), [
    ("0.12", penalty_text(), "ACT/360", (D("0.180"), 360)),  # 0.12 × 1.5 over 360: exact, short
    ("0.0435", penalty_text(multiplier=D("1.5")), "ACT/360", (D("0.06525"), 360)),
    ("0.18", penalty_text(daily_rate=D("0.0005")), "ACT/365F", (D("0.0005"), 1)),  # a daily rate: over 1 day
    ("0.18", penalty_text(), "ACT/365F", (D("0.270"), 365)),  # never divided, so 0.27 / 365 is exact too
    ("0.1234567891", penalty_text(), "ACT/360", None),  # 0.18518518365: 11 significant digits
    ("0.123456789012", penalty_text(multiplier=D(1)), "30/360", None),  # 12 significant digits
    ("0.36", penalty_text(daily_rate=D("0.00012345678912")), "ACT/360", None),  # 11 digits, 14 decimals
    ("0.12", penalty_text().replace('"1.5"', '"3"'), "ACT/360", None),  # refused by the policy: Python names it
    ("0.12", '{"multiplier": "1.5"}', "ACT/360", None),  # keys missing: no default fills them, Python names them
    ("0.12", None, "ACT/360", None),  # no penalty section at all: the same
    ("0.12", penalty_text(), "ACT/999", None),  # an unknown day count: the same
    ("0.12", penalty_text(), None, None),  # no day count: the same
])
def test_the_sql_path_takes_a_penalty_rate_only_when_python_computes_it_without_rounding(
        annual_rate, penalty, day_count, expected):
    """Rate numerators exact in Python's 28 digits with at most 10 significant digits and 12 decimals go to SQL
    (whose exact ``numeric`` then gives Python's digits); the rest, and settings that do not parse, stay."""
    found = exact_rate_fraction(D(annual_rate), penalty, day_count)
    assert (found[:2] if found else None) == expected


def test_a_loan_whose_stored_penalty_is_damaged_stops_the_night_naming_the_key(postgres_url):
    """The SQL path leaves a contract it cannot parse to the Python rule, which refuses it: no default penalty."""
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        loan = book(session, principal="8000.00", rate="0.18", start=date(2025, 12, 10), key="damaged")
        stored = loan.contract.to_json()
        del stored["penalty"]["multiplier"]
        session.execute(Loan.__table__.update().values(terms=stored))  # around the model, as damage would
        session.commit()
        with pytest.raises(StoredContractError) as error:
            run_eod(session, date(2026, 1, 11))
        assert error.value.field == "terms.penalty.multiplier"
    engine.dispose()


def test_a_partition_asks_for_compressed_full_page_images_only_where_the_server_lets_it_choose(postgres_url):
    """The SQL path sets ``wal_compression`` for its own transaction when the server leaves it off and the
    role may set it (a superuser, or a role granted ``SET ON PARAMETER``); otherwise it changes nothing."""
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    role = f"lf_eod_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        server = conn.scalar(text("SELECT reset_val FROM pg_settings WHERE name = 'wal_compression'"))
        methods = conn.scalar(text("SELECT enumvals FROM pg_settings WHERE name = 'wal_compression'"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    assert server == "off", "this test expects a server that leaves full-page images uncompressed"
    method = "lz4" if "lz4" in methods else "pglz"
    as_role = make_engine(postgres_url.replace("://postgres@", f"://{role}@"))
    try:
        with make_session_factory(engine)() as session:
            accrue_quiet_loans(session, date(2026, 1, 2), 1, 1000)
            assert session.scalar(text("SHOW wal_compression")) == method  # the superuser running the tests
            session.rollback()
            assert session.scalar(text("SHOW wal_compression")) == "off"  # for that transaction only
            session.execute(text("SET wal_compression = 'pglz'"))
            assert compress_full_page_images(session) is None  # a choice already made is kept
            assert session.scalar(text("SHOW wal_compression")) == "pglz"
        with make_session_factory(as_role)() as session:
            assert compress_full_page_images(session) is None  # a role that may not: nothing, and no error
            assert session.scalar(text("SHOW wal_compression")) == "off"
        with engine.begin() as conn:
            conn.execute(text(f"GRANT SET ON PARAMETER wal_compression TO {role}"))
        with make_session_factory(as_role)() as session:
            assert compress_full_page_images(session) == method
            assert session.scalar(text("SHOW wal_compression")) == method
    finally:
        as_role.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"REVOKE SET ON PARAMETER wal_compression FROM {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.dispose()


def test_the_steady_overdue_statements_read_each_loans_own_installments_whatever_the_statistics_say(pg_session):
    """Statistics gathered before anything was overdue make the planner expect no overdue installment; the
    penalty and classification statements still go loan by loan (the loan's index), never through every
    overdue installment of the book by due date (``ix_loan_installments_due``)."""
    session = pg_session
    seed_portfolio(session, 16)
    book_penalty_rules(session)
    session.commit()
    session.execute(text("ANALYZE loan_installments"))  # every installment pending, as after seeding a book
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith(("CREATE TEMP TABLE eod_penalties_", "WITH late AS")):
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    run_eod(session, date(2026, 2, 12))  # the loans left unpaid turn overdue (the Python rule)
    session.commit()
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", explain)
    try:
        run_eod(session, date(2026, 2, 13))  # now steadily overdue: the SQL path charges and classifies them
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    assert len(plans) == 2
    assert all("ix_loan_installments_due" not in plan for plan in plans), plans
