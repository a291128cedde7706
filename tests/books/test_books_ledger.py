"""The ledger: balanced entries only, once per key, immutable, reversible, projection equal to the journal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidArgumentError
from core.ledger import (
    IdempotencyConflictError,
    ImmutableLedgerError,
    JournalEntry,
    Line,
    LoanBalance,
    LoanBalances,
    NewEntry,
    Posting,
    ReversalError,
    UnbalancedEntryError,
    cash_clearing,
    compare_projection,
    journal_balances,
    loan_balances,
    post,
    post_many,
    rebuild_projection,
    reverse,
    trial_balance,
)
from core.ledger import accounts as acc

BANK = cash_clearing("sandbox_bank")
D = Decimal
DAY = date(2026, 2, 15)


def disburse(session, loan, amount="12000.00", key=None):
    return post(session, key=key or f"disbursement:{loan.id}", event="disbursement", business_date=date(2026, 1, 15),
                loan_id=loan.id, lines=[Line.dr(acc.PRINCIPAL_RECEIVABLE, amount), Line.cr(BANK, amount)])


def repay_lines():
    return [Line.dr(BANK, "1100.00"), Line.cr(acc.INTEREST_RECEIVABLE, "43.50"),
            Line.cr(acc.PRINCIPAL_RECEIVABLE, "980.00"), Line.cr(acc.OVERPAYMENT_SUSPENSE, "76.50")]


def entry_count(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def test_disbursement_accrual_and_repayment_with_overpayment__worked_example(db_session, make_loan):
    """12,000.00 paid out at 4.35% a year; a month's interest 12,000 x 4.35% / 12 = 43.50 accrues; the
    borrower pays 1,100.00: 43.50 interest, 980.00 principal and 76.50 over-paid into suspense.
    Afterwards principal 11,020.00, interest 0, suspense 76.50; total debits = total credits =
    12,000 + 43.50 + 1,100 = 13,143.50."""
    loan = make_loan()
    disburse(db_session, loan)
    post(db_session, key=f"accrual:{loan.id}:2026-02-15", event="accrual", business_date=DAY, loan_id=loan.id,
         lines=[(acc.INTEREST_RECEIVABLE, "43.50", 0), (acc.INTEREST_INCOME, 0, "43.50")])
    post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY, loan_id=loan.id,
         lines=repay_lines())
    db_session.commit()
    expected = LoanBalances(principal=D("11020.00"), interest=D(0), fee=D(0), penalty=D(0), suspense=D("76.50"))
    assert journal_balances(db_session, loan.id) == expected
    assert loan_balances(db_session, loan.id) == expected
    report = trial_balance(db_session)
    assert report.balanced and report.total_debit == report.total_credit == D("13143.50")
    by_code = {row.account: row for row in report.rows}
    assert by_code[BANK].balance == D("-10900.00")
    assert by_code[acc.INTEREST_INCOME].balance == D("43.50")
    assert by_code[acc.OVERPAYMENT_SUSPENSE].balance == D("76.50")
    assert by_code[acc.PRINCIPAL_RECEIVABLE].name_zh == "贷款本金"


def test_an_unbalanced_entry_is_refused_naming_the_residual_and_writes_nothing(db_session, make_loan):
    loan = make_loan()
    with pytest.raises(UnbalancedEntryError) as info:
        post(db_session, key="bad", event="repayment", business_date=DAY, loan_id=loan.id,
             lines=[Line.dr(BANK, "100.00"), Line.cr(acc.PRINCIPAL_RECEIVABLE, "99.99")])
    assert info.value.residual == D("0.01")
    assert "0.01" in str(info.value) and info.value.field == "lines"
    assert entry_count(db_session) == 0


@pytest.mark.parametrize(("lines", "field"), [
    ([("9999", "1", 0), (BANK, 0, "1")], "account"),
    ([(acc.FEE_INCOME, "-1", 0), (BANK, 0, "-1")], "lines"),
    ([(acc.FEE_INCOME, "1", "1"), (BANK, 0, "0")], "lines"),
    ([(acc.FEE_INCOME, "0", "0"), (BANK, "0", "0")], "lines"),
    ([(acc.FEE_INCOME, "0.00001", 0), (BANK, 0, "0.00001")], "lines"),
    ([(acc.FEE_INCOME, "1", 0)], "lines"),
    ([(acc.FEE_INCOME, "1e30", 0), (BANK, 0, "1e30")], "lines"),
    ([(acc.FEE_INCOME, 1.5, 0), (BANK, 0, "1.5")], "debit"),
])
def test_malformed_lines_are_refused_naming_the_field(lines, field):
    with pytest.raises(InvalidArgumentError) as info:
        post(None, key="k", event="fee", business_date=DAY, lines=lines)  # refused before the session is used
    assert info.value.field == field


def test_a_per_loan_account_needs_a_loan():
    with pytest.raises(InvalidArgumentError) as info:
        post(None, key="k", event="disbursement", business_date=DAY,
             lines=[Line.dr(acc.PRINCIPAL_RECEIVABLE, "5"), Line.cr(BANK, "5")])
    assert info.value.field == "loan_id"


def test_the_same_key_posts_once_whatever_the_line_order(db_session, make_loan):
    loan = make_loan()
    first = post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY, loan_id=loan.id,
                 lines=repay_lines())
    again = post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY, loan_id=loan.id,
                 lines=list(reversed(repay_lines())), memo="a retry from the channel")
    db_session.commit()
    assert again.id == first.id
    assert entry_count(db_session) == 1
    assert db_session.scalar(select(func.count()).select_from(Posting)) == 4
    assert loan_balances(db_session, loan.id).suspense == D("76.50")


def test_the_same_key_with_different_lines_is_a_conflict(db_session, make_loan):
    loan = make_loan()
    post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY, loan_id=loan.id,
         lines=repay_lines())
    with pytest.raises(IdempotencyConflictError) as info:
        post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY, loan_id=loan.id,
             lines=[Line.dr(BANK, "1000.00"), Line.cr(acc.PRINCIPAL_RECEIVABLE, "1000.00")])
    assert info.value.field == "key"
    with pytest.raises(IdempotencyConflictError):
        post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=date(2026, 2, 16),
             loan_id=loan.id, lines=repay_lines())


def test_entries_and_postings_cannot_be_changed_or_deleted_through_the_orm(db_session, make_loan):
    loan = make_loan()
    entry = disburse(db_session, loan)
    db_session.commit()
    entry.memo = "edited"
    with pytest.raises(ImmutableLedgerError):
        db_session.flush()
    db_session.rollback()
    db_session.delete(entry.postings[0])
    with pytest.raises(ImmutableLedgerError):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(ImmutableLedgerError):
        db_session.execute(update(Posting).values(debit=D(1)))
    with pytest.raises(ImmutableLedgerError):
        db_session.execute(JournalEntry.__table__.delete())
    db_session.rollback()
    db_session.add(Posting(entry=entry, account=BANK, debit=D(1), credit=D(0)))
    with pytest.raises(ImmutableLedgerError):
        db_session.flush()
    db_session.rollback()
    db_session.add(Posting(entry_id=entry.id, account=BANK, debit=D(1), credit=D(0)))
    with pytest.raises(ImmutableLedgerError):
        db_session.flush()


def test_an_entry_built_through_the_orm_must_balance(db_session):
    entry = JournalEntry(idempotency_key="orm", event="fee", business_date=DAY, fingerprint="-")
    entry.postings = [Posting(account=acc.FEE_RECEIVABLE, loan_id=None, debit=D(5), credit=D(0)),
                      Posting(account=acc.FEE_INCOME, debit=D(0), credit=D(4))]
    db_session.add(entry)
    with pytest.raises(UnbalancedEntryError) as info:
        db_session.flush()
    assert info.value.residual == D(1)


def test_a_reversal_mirrors_the_entry_and_restores_the_balances(db_session, make_loan):
    loan = make_loan()
    disburse(db_session, loan)
    repayment = post(db_session, key="repayment:sandbox_bank:P1", event="repayment", business_date=DAY,
                     loan_id=loan.id, lines=repay_lines())
    mirror = reverse(db_session, repayment, key="reversal:P1", business_date=date(2026, 2, 20))
    db_session.commit()
    assert mirror.reverses_entry_id == repayment.id and mirror.business_date == date(2026, 2, 20)
    assert sorted((p.account, p.debit, p.credit) for p in mirror.postings) == sorted(
        (p.account, p.credit, p.debit) for p in repayment.postings)
    assert loan_balances(db_session, loan.id) == LoanBalances(principal=D("12000.00"))
    assert compare_projection(db_session) == []
    assert trial_balance(db_session).balanced
    assert reverse(db_session, repayment.id, key="reversal:P1", business_date=date(2026, 2, 20)).id == mirror.id
    with pytest.raises(ReversalError):
        reverse(db_session, repayment, key="reversal:P1-again")
    with pytest.raises(ReversalError):
        reverse(db_session, mirror, key="reversal-of-reversal")


def test_the_projection_is_rebuilt_from_the_journal(db_session, make_loan):
    loans = [make_loan() for _ in range(3)]
    for loan in loans:
        disburse(db_session, loan, amount="5000.00")
    db_session.execute(update(LoanBalance).where(LoanBalance.loan_id == loans[1].id).values(principal=D("1.00")))
    db_session.execute(text("DELETE FROM loan_balances WHERE loan_id = :id"), {"id": loans[2].id})
    differences = compare_projection(db_session)
    assert {(d.loan_id, d.bucket, d.journal, d.projection) for d in differences} == {
        (loans[1].id, "principal", D("5000.00"), D("1.00")), (loans[2].id, "principal", D("5000.00"), D(0))}
    assert rebuild_projection(db_session) == 3
    assert compare_projection(db_session) == []
    assert loan_balances(db_session, loans[2].id).principal == D("5000.00")


def accrual(loan_id: int, day: int, amount: str = "1.4500") -> NewEntry:
    return NewEntry(f"accrual:{loan_id}:2026-03-{day:02d}", "accrual", date(2026, 3, day),
                    (Line.dr(acc.INTEREST_RECEIVABLE, amount), Line.cr(acc.INTEREST_INCOME, amount)), loan_id)


def test_post_many_posts_a_batch_once_and_keeps_the_projection(db_session, make_loan):
    """Ten loans, 28 daily accruals of 1.4500 each: interest receivable 40.6000 per loan."""
    loans = [make_loan() for _ in range(10)]
    batch = [accrual(loan.id, day) for day in range(1, 29) for loan in loans]
    result = post_many(db_session, batch)
    assert (result.inserted, result.skipped) == (280, 0)
    again = post_many(db_session, [*batch[:50], accrual(loans[0].id, 28), batch[0]])
    assert (again.inserted, again.skipped) == (0, 52)
    db_session.commit()
    assert all(loan_balances(db_session, loan.id).interest == D("40.6000") for loan in loans)
    assert compare_projection(db_session) == []
    assert trial_balance(db_session).total_debit == D("406.0000")


def test_post_many_refuses_a_key_reused_with_other_content(db_session, make_loan):
    loan = make_loan()
    post_many(db_session, [accrual(loan.id, 1)])
    with pytest.raises(IdempotencyConflictError):
        post_many(db_session, [accrual(loan.id, 1, "2.0000")])
    with pytest.raises(IdempotencyConflictError):
        post_many(db_session, [accrual(loan.id, 2), accrual(loan.id, 2, "2.0000")])


def test_a_loaded_projection_row_is_refreshed_by_later_posts(db_session, make_loan):
    loan = make_loan()
    disburse(db_session, loan, amount="5000.00")
    row = db_session.get(LoanBalance, loan.id)
    assert row.principal == D("5000.00")
    post(db_session, key="repayment:P9", event="repayment", business_date=DAY, loan_id=loan.id,
         lines=[Line.dr(BANK, "200.00"), Line.cr(acc.PRINCIPAL_RECEIVABLE, "200.00")])
    assert db_session.get(LoanBalance, loan.id).principal == D("4800.00")


def test_one_entry_may_carry_lines_of_many_loans(db_session, make_loan):
    """A day's accrual batch as one entry: 0.5000 on loan A and 0.2500 on loan B, 0.7500 of income."""
    a, b = make_loan(), make_loan()
    post(db_session, key="accrual:2026-03-01:partition-0", event="accrual", business_date=date(2026, 3, 1),
         lines=[Line.dr(acc.INTEREST_RECEIVABLE, "0.5000", a.id), Line.dr(acc.INTEREST_RECEIVABLE, "0.2500", b.id),
                Line.cr(acc.INTEREST_INCOME, "0.7500")])
    assert loan_balances(db_session, a.id).interest == journal_balances(db_session, a.id).interest == D("0.5000")
    assert loan_balances(db_session, b.id).interest == journal_balances(db_session, b.id).interest == D("0.2500")


def test_unbalanced_new_entries_are_refused_before_any_batch_work():
    with pytest.raises(UnbalancedEntryError):
        NewEntry("k", "accrual", DAY, (Line.dr(acc.INTEREST_RECEIVABLE, "1"), Line.cr(acc.INTEREST_INCOME, "2")), 1)


_ENTRY = ("INSERT INTO ledger_entries (idempotency_key, event, loan_id, business_date, fingerprint, created_at, "
          "reverses_entry_id) VALUES (:key, 'fee', :loan, :day, '-', CURRENT_TIMESTAMP, :reverses)")
_LINES = ("INSERT INTO ledger_postings (entry_id, account, loan_id, debit, credit) "
          "VALUES (:entry, '1133', :loan, 15, 0), (:entry, '6021', :loan, 0, 15)")


def test_the_database_refuses_a_second_reversal_of_an_entry(db_engine, db_session, make_loan):
    """The rule :func:`reverse` checks first holds in the database too (SQLite: a unique constraint; PostgreSQL:
    a unique index of the reversals alone): a second entry reversing the same entry is refused."""
    loan_id = make_loan().id
    db_session.commit()
    with db_engine.begin() as conn:
        conn.execute(text(_ENTRY), {"key": "fee", "loan": loan_id, "day": DAY, "reverses": None})
        fee = conn.execute(text("SELECT id FROM ledger_entries WHERE idempotency_key = 'fee'")).scalar_one()
        conn.execute(text(_LINES), {"entry": fee, "loan": loan_id})
        for key in ("undo-1", "undo-2"):
            conn.execute(text(_ENTRY), {"key": key, "loan": loan_id, "day": DAY, "reverses": None})
    with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed|uq_ledger_entries_reversals"), \
            db_engine.begin() as conn:
        conn.execute(text(_ENTRY), {"key": "undo-a", "loan": loan_id, "day": DAY, "reverses": fee})
        conn.execute(text(_ENTRY), {"key": "undo-b", "loan": loan_id, "day": DAY, "reverses": fee})
    with db_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ledger_entries WHERE reverses_entry_id IS NOT NULL")) == 0


@pytest.mark.parametrize("missing", ["loan", "entry", "reversed entry"])
def test_the_journal_refuses_an_entry_of_a_missing_loan_and_lines_of_a_missing_entry(db_engine, db_session, make_loan,
                                                                                     missing):
    """An entry of a loan that does not exist, lines of an entry that does not exist, the reversal of an entry
    that does not exist: SQLite's foreign keys refuse the row at once; on PostgreSQL the commit-time check
    refuses the whole transaction (``foreign_key_violation``). Either way nothing of it is written."""
    loan_id = make_loan().id
    db_session.commit()
    with pytest.raises(IntegrityError, match=r"FOREIGN KEY constraint failed|which does not exist"), \
            db_engine.begin() as conn:
        conn.execute(text(_ENTRY), {"key": "good", "loan": loan_id, "day": DAY, "reverses": None})
        good = conn.execute(text("SELECT id FROM ledger_entries WHERE idempotency_key = 'good'")).scalar_one()
        conn.execute(text(_LINES), {"entry": good, "loan": loan_id})
        if missing == "entry":
            conn.execute(text(_LINES), {"entry": good + 1000, "loan": loan_id})
        else:
            orphan_loan = loan_id + 1000 if missing == "loan" else loan_id
            conn.execute(text(_ENTRY), {"key": "orphan", "loan": orphan_loan, "day": DAY,
                                        "reverses": good + 1000 if missing == "reversed entry" else None})
            orphan = conn.execute(text("SELECT id FROM ledger_entries WHERE idempotency_key = 'orphan'")).scalar_one()
            conn.execute(text(_LINES), {"entry": orphan, "loan": orphan_loan})
    with db_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ledger_entries")) == 0
        assert conn.scalar(text("SELECT count(*) FROM ledger_postings")) == 0
