"""Non-accrual in the SQL path of end-of-day against the Python rule, to the fen and to the byte.

Loans left unpaid since autumn 2025 cross 90 days past due while the books are closed day by day from
2026-01-29 to 2026-02-12 (one is past it on the first day, two cross in the window, one never does); one
non-accrual loan pays part of what it owes (cash recognised as income) and that repayment is later reversed,
another pays everything due and is cured. The same history is closed on PostgreSQL with the SQL path, on
PostgreSQL with the Python rule for every loan, and on SQLite: the journals, the books and every loan's
non-accrual date must be identical.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from servicing.helpers import book, books_picture, check_books, seed_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

import core.eod.setbased
from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from core.eod.nonaccrual import NonAccrualResult, close_non_accrual_in_sql
from core.ledger import JournalEntry, Posting
from core.loans.models import Loan
from core.loans.repayment import amount_due, repay
from core.loans.reversal import reverse_repayment

pytestmark = pytest.mark.postgres
FIRST, LAST = date(2026, 1, 29), date(2026, 2, 12)
STARTS = (date(2025, 9, 20), date(2025, 10, 1), date(2025, 10, 8), date(2025, 10, 15))


def journal(session: Session) -> list[tuple[object, ...]]:
    """Every entry with its lines; a reversal named by the key of the entry it reverses (its own key holds
    entry ids, which the two paths draw in different orders)."""
    lines: dict[int, list[tuple[object, ...]]] = {}
    for posting in session.scalars(select(Posting)):
        lines.setdefault(posting.entry_id, []).append((posting.account, posting.loan_id, posting.debit, posting.credit))
    entries = list(session.scalars(select(JournalEntry)))
    key_of = {e.id: e.idempotency_key for e in entries}
    return sorted((f"reversal of {key_of[e.reverses_entry_id]}" if e.reverses_entry_id else e.idempotency_key,
                   e.event, e.loan_id, e.business_date, sorted(lines[e.id])) for e in entries)


def servicing(session: Session, day: date, ids: dict[str, int]) -> None:
    """The history's operations, taken on ``day`` before its end-of-day."""
    if day == date(2026, 2, 3):
        repay(session, loan_id=ids["partial"], amount="500.00", on=day, today=day, channel="sandbox_bank",
              key="partial", actor="tests")
    if day == date(2026, 2, 5):
        due = amount_due(session, loan_id=ids["cure"], on=day)
        repay(session, loan_id=ids["cure"], amount=due, on=day, today=day, channel="sandbox_bank", key="cure",
              actor="tests")
    if day == date(2026, 2, 9):
        from core.loans.events import ServicingEvent
        paid = session.scalars(select(ServicingEvent).where(ServicingEvent.request_key == "partial")).one()
        reverse_repayment(session, loan_id=ids["partial"], repayment_id=paid.id, on=day, key="rev-partial",
                          actor="tests")


def close_books(url: str, set_based: bool | None):
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_calendar(session)
        ids = {f"npl-{k}": book(session, principal="8000.00", rate="0.18", start=start, key=f"npl-{k}").id
               for k, start in enumerate(STARTS)}
        ids["partial"] = book(session, principal="5000.00", rate="0.12", start=STARTS[0], key="book-partial").id
        ids["cure"] = book(session, principal="3000.00", rate="0.24", start=STARTS[1], key="book-cure").id
        session.commit()
        day = FIRST
        while day <= LAST:
            servicing(session, day, ids)
            run_eod(session, day, partition_size=4, set_based=set_based)
            session.commit()
            day += timedelta(days=1)
        check_books(session)
        since = [(loan.id, loan.non_accrual_since) for loan in session.scalars(select(Loan).order_by(Loan.id))]
        result = journal(session), books_picture(session), since
    engine.dispose()
    return result


def test_the_sql_path_suspends_and_records_off_balance_exactly_as_the_python_rule(
        postgres_url, second_postgres_url, tmp_path, monkeypatch):
    seen: list[NonAccrualResult] = []

    def counting(*args, **kwargs):
        result = close_non_accrual_in_sql(*args, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(core.eod.setbased, "close_non_accrual_in_sql", counting)
    set_based = close_books(postgres_url, None)
    assert sum(r.moved for r in seen) >= 2          # loans went on non-accrual in SQL ...
    assert sum(r.entries for r in seen) > 20        # ... and their days' interest and penalty were suspended there
    python = close_books(second_postgres_url, False)
    embedded = close_books(f"sqlite:///{tmp_path}/books.sqlite3", None)
    assert set_based[0] == python[0] == embedded[0]
    assert set_based[1] == python[1] == embedded[1]
    assert set_based[2] == python[2] == embedded[2]
    since = dict(set_based[2])
    # npl-0 (first due 2025-10-20) was past 90 on the first day; npl-1 (11-01) crossed on 01-31, npl-2 (11-08)
    # on 02-07; npl-3 (11-15) reached only 89; the cured loan is back on accrual
    assert [since[k] for k in (1, 2, 3, 4)] == [FIRST, date(2026, 1, 31), date(2026, 2, 7), None]
    assert since[6] is None
    events = {entry[1] for entry in set_based[0]}
    assert "non_accrual" in events
