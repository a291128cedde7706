"""End-of-day runs: idempotent, in order, within the calendar, and exact over a period."""

import threading
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from servicing.helpers import book, check_books, seed_calendar
from sqlalchemy import func, select

from core.businessday.calendar import (
    CalendarNotCoveredError,
    covered_until,
    ensure_covered,
    is_business_day,
    next_business_day,
)
from core.businessday.calendar import seed_calendar as seed
from core.businessday.closes import EodStepRun, last_closed
from core.db.base import Base, make_engine, make_session_factory
from core.eod import EodOrderError, Partition, finalize, run_eod
from core.eod.partition import SUB_STEPS
from core.eod.run import close_partition
from core.errors import InvalidArgumentError
from core.ledger import JournalEntry, loan_balances
from core.loans.models import Loan


def entries(session):
    return session.scalar(select(func.count()).select_from(JournalEntry))


def test_a_month_of_daily_accruals_adds_up_to_the_scheduled_120_00_exactly(books):
    """12,000.00 at 1% a month: period 1 (01-15 to 02-15, 31 days) earns 120.00; each day posts the
    cumulative round(120 × k / 31) less what is posted, so the 31 postings add up to 120.00."""
    loan = book(books)
    report = run_eod(books, date(2026, 1, 16))
    report = run_eod(books, date(2026, 2, 15))
    assert report.dates[0] == date(2026, 1, 17) and report.dates[-1] == date(2026, 2, 15)
    assert loan_balances(books, loan.id).interest == D("120.00")
    assert loan_balances(books, loan.id).interest != 0
    check_books(books)


def test_rerunning_a_closed_date_changes_nothing(books):
    book(books)
    first = run_eod(books, date(2026, 1, 20))
    count = entries(books)
    again = run_eod(books, date(2026, 1, 20))
    assert first.dates == [date(2026, 1, 20)] and again.dates == [] and entries(books) == count
    assert books.scalar(select(func.count()).select_from(EodStepRun)) == len(SUB_STEPS) + 1


def test_missed_days_are_caught_up_in_order(books):
    book(books)
    run_eod(books, date(2026, 1, 20))
    report = run_eod(books, date(2026, 1, 25))
    assert report.dates == [date(2026, 1, 21) + timedelta(days=k) for k in range(5)]
    assert last_closed(books) == date(2026, 1, 25)


def test_a_date_past_the_calendar_is_refused(db_session):
    seed(db_session, date(2026, 1, 1), date(2026, 1, 31))
    assert covered_until(db_session) == date(2026, 1, 31)
    run_eod(db_session, date(2026, 1, 31))
    with pytest.raises(CalendarNotCoveredError) as error:
        run_eod(db_session, date(2026, 2, 1))
    assert error.value.field == "business_date"


def test_an_empty_calendar_covers_nothing(db_session):
    with pytest.raises(CalendarNotCoveredError):
        ensure_covered(db_session, date(2026, 1, 1))


def test_calendar_holidays_and_make_up_working_days(db_session):
    """2026 Spring Festival: 02-16..02-22 off (a Monday to a Sunday), Saturday 02-14 a working day."""
    holidays = [date(2026, 2, 16) + timedelta(days=k) for k in range(7)]
    seed(db_session, date(2026, 2, 1), date(2026, 3, 1), holidays=holidays, workdays=[date(2026, 2, 14)])
    assert is_business_day(db_session, date(2026, 2, 14))
    assert not is_business_day(db_session, date(2026, 2, 17))
    assert next_business_day(db_session, date(2026, 2, 16)) == date(2026, 2, 23)
    with pytest.raises(CalendarNotCoveredError):
        next_business_day(db_session, date(2026, 3, 1))
    with pytest.raises(InvalidArgumentError) as error:
        seed(db_session, date(2026, 3, 1), date(2026, 3, 2), holidays=[date(2026, 3, 2)], workdays=[date(2026, 3, 2)])
    assert error.value.field == "workdays"


def test_a_partition_of_a_later_date_waits_for_the_previous_date(books):
    book(books)
    run_eod(books, date(2026, 1, 20))
    with pytest.raises(EodOrderError):
        close_partition(books, date(2026, 1, 22), Partition(1, 50_000))
    assert close_partition(books, date(2026, 1, 20), Partition(1, 50_000)) is None


def test_a_date_is_not_finalized_while_a_partition_is_missing(books):
    book(books)
    run_eod(books, date(2026, 1, 20))
    with pytest.raises(EodOrderError):
        finalize(books, date(2026, 1, 21))
    close_partition(books, date(2026, 1, 21), Partition(1, 50_000))
    assert finalize(books, date(2026, 1, 21)) is True
    assert finalize(books, date(2026, 1, 21)) is False


def test_small_partitions_give_the_same_books_as_one(books):
    """Three 12-month loans of 1,000 / 2,000 / 3,000 at 1% a month (installments 88.85, 177.70, 266.55),
    nothing paid, closed through 02-20 in partitions of two ids: interest receivable is period 1's
    (10.00, 20.00, 30.00) plus 5/28 of period 2's (9.21, 18.42, 27.63 → 1.64, 3.29, 4.93)."""
    loans = [book(books, principal=p) for p in ("1000.00", "2000.00", "3000.00")]
    run_eod(books, date(2026, 1, 16), partition_size=2)
    run_eod(books, date(2026, 2, 20), partition_size=2)
    runs = books.scalar(select(func.count()).select_from(EodStepRun)
                        .where(EodStepRun.business_date == date(2026, 2, 1)))
    assert runs == 2 * len(SUB_STEPS) + 1  # the sub-steps of two partitions and the finalize
    assert [loan_balances(books, loan.id).interest for loan in loans] == [D("11.64"), D("23.29"), D("34.93")]
    books.expire_all()
    assert {books.get(Loan, loan.id).bucket for loan in loans} == {"M1"}
    check_books(books)


@pytest.mark.postgres
def test_two_concurrent_runs_for_one_date_give_one_result(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        seed_calendar(session)
        for k in range(20):
            book(session, principal=f"{1000 + k}.00")
        run_eod(session, date(2026, 1, 16))
        session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def run():
        with factory() as session:
            try:
                barrier.wait()
                run_eod(session, date(2026, 1, 25))
                session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        per_date = session.execute(select(EodStepRun.business_date, EodStepRun.step, func.count())
                                   .group_by(EodStepRun.business_date, EodStepRun.step)).all()
        assert all(count == 1 for _, _, count in per_date) and len(per_date) == (len(SUB_STEPS) + 1) * 10
        accruals = session.scalar(select(func.count()).select_from(JournalEntry)
                                  .where(JournalEntry.event == "eod_accrual"))
        assert accruals == 20 * 10
        check_books(session)
    engine.dispose()


def test_the_run_log_records_each_sub_step_of_a_partition_with_what_it_did(books):
    """Two 12,000.00 loans at 1% a month from 01-15, nothing paid. On 02-15 period 1 (interest 120.00,
    principal 946.19) falls due and accrues its last day; on 02-16 it is overdue: the status moves, day 1 of
    penalty is 946.19 × 0.12 × 1.5 / 360 = 0.4731 (0.47 posted), period 2 accrues and both loans turn
    overdue (M1, 关注)."""
    book(books)
    book(books)
    run_eod(books, date(2026, 1, 16))
    run_eod(books, date(2026, 2, 16))

    def log(day):
        return {step: (loans, entries) for step, loans, entries in books.execute(
            select(EodStepRun.step, EodStepRun.loans, EodStepRun.entries)
            .where(EodStepRun.business_date == day, EodStepRun.partition == "1-50000"))}

    assert log(date(2026, 2, 15)) == {"fall_due": (2, 0), "accrual": (2, 2), "suspense": (0, 0),
                                      "penalty": (0, 0), "late_fee": (0, 0), "classify": (0, 0), "non_accrual": (0, 0)}
    assert log(date(2026, 2, 16)) == {"fall_due": (2, 0), "accrual": (2, 2), "suspense": (0, 0),
                                      "penalty": (2, 2), "late_fee": (0, 0), "classify": (2, 0), "non_accrual": (0, 0)}
    books.expire_all()
    loans = books.scalars(select(Loan)).all()
    assert [loan_balances(books, loan.id).penalty for loan in loans] == [D("0.47"), D("0.47")]
    assert {(loan.bucket, loan.five_tier) for loan in loans} == {("M1", "special_mention")}
