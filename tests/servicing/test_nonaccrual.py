"""Non-accrual, loan by loan, against figures read off the installments (never off the rule's own entries).

A loan of 8,000.00 at 18% first due on 2025-10-20 and never paid is 91 days past due at the end of
2026-01-19. From that day its interest and penalty are out of income: what was accrued and unpaid is
reversed out of it (into suspense and off-balance memo), each later day's accrual and penalty nets to nothing
in income, cash applied to interest and penalty is income, and a cured loan releases the rest.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.eod import run_eod
from core.errors import InvalidArgumentError
from core.ledger import JournalEntry, Posting, loan_balances
from core.ledger import accounts as acc
from core.loans.adjustments import waive_penalty, write_off
from core.loans.models import Loan
from core.loans.nonaccrual import NonAccrualPolicy
from core.loans.repayment import amount_due, repay
from servicing.helpers import book, check_books, installments

ENTERS = date(2026, 1, 19)  # 2025-10-20 + 91 days


def close(session, first: date, last: date) -> None:
    day = first
    while day <= last:
        run_eod(session, day)
        session.commit()
        day += timedelta(days=1)


def net(session, loan_id: int, account: str, on: date | None = None) -> D:
    """Debit minus credit of the loan's lines on ``account`` (on one business date, or all)."""
    query = select(Posting.debit, Posting.credit).join(JournalEntry).where(Posting.loan_id == loan_id,
                                                                           Posting.account == account)
    if on is not None:
        query = query.where(JournalEntry.business_date == on)
    return sum((d - c for d, c in session.execute(query)), D(0))


def owed(session, loan_id: int) -> tuple[D, D]:
    """Accrued unpaid interest and unpaid penalty, from the installments."""
    rows = installments(session, loan_id)
    return (sum((r.interest_accrued - r.paid_interest for r in rows), D(0)),
            sum((r.penalty - r.paid_penalty - r.waived_penalty for r in rows), D(0)))


@pytest.fixture
def npl(books):
    loan = book(books, principal="8000.00", rate="0.18", start=date(2025, 9, 20), key="npl")
    books.commit()
    close(books, date(2026, 1, 15), ENTERS - timedelta(days=1))
    return loan.id


def test_past_90_days_the_unpaid_interest_and_penalty_leave_income_for_the_memo(books, npl):
    interest_before, penalty_before = owed(books, npl)
    assert interest_before > 0 and penalty_before > 0
    assert -net(books, npl, acc.INTEREST_INCOME) == interest_before      # on accrual: all of it is income
    close(books, ENTERS, ENTERS)
    assert books.get(Loan, npl).non_accrual_since == ENTERS
    interest, penalty = owed(books, npl)
    # all interest and penalty ever accrued is now out of income: the loan was never paid
    assert net(books, npl, acc.INTEREST_INCOME) == 0 and net(books, npl, acc.PENALTY_INCOME) == 0
    assert -net(books, npl, acc.INTEREST_SUSPENDED) == interest and -net(books, npl, acc.PENALTY_SUSPENDED) == penalty
    assert net(books, npl, acc.MEMO_INTEREST) == interest and net(books, npl, acc.MEMO_PENALTY) == penalty
    assert -net(books, npl, acc.MEMO_CONTRA) == interest + penalty
    balances = loan_balances(books, npl)     # the borrower still owes it all
    assert (balances.interest, balances.penalty) == (interest, penalty)
    check_books(books)


def test_days_91_to_95_accrue_off_balance_only(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=4))
    for day in (ENTERS + timedelta(days=k) for k in range(1, 5)):
        accrued_today = net(books, npl, acc.INTEREST_RECEIVABLE, day)
        penalty_today = net(books, npl, acc.PENALTY_RECEIVABLE, day)
        assert accrued_today > 0 and penalty_today > 0           # the loan keeps accruing ...
        assert net(books, npl, acc.INTEREST_INCOME, day) == 0    # ... none of it as income
        assert net(books, npl, acc.PENALTY_INCOME, day) == 0
        assert net(books, npl, acc.MEMO_INTEREST, day) == accrued_today
        assert net(books, npl, acc.MEMO_PENALTY, day) == penalty_today


def test_cash_applied_to_interest_and_penalty_is_income_the_rest_stays_off_balance(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=2))
    day = ENTERS + timedelta(days=3)
    before = {r.period: (r.paid_interest, r.paid_penalty) for r in installments(books, npl)}
    repay(books, loan_id=npl, amount="300.00", on=day, today=day, channel="sandbox_bank", key="p", actor="tests")
    books.commit()
    after = installments(books, npl)
    paid_interest = sum((r.paid_interest - before[r.period][0] for r in after), D(0))
    paid_penalty = sum((r.paid_penalty - before[r.period][1] for r in after), D(0))
    assert paid_interest + paid_penalty > 0
    assert -net(books, npl, acc.INTEREST_INCOME) == paid_interest
    assert -net(books, npl, acc.PENALTY_INCOME) == paid_penalty
    interest, penalty = owed(books, npl)
    assert net(books, npl, acc.MEMO_INTEREST) == interest and net(books, npl, acc.MEMO_PENALTY) == penalty
    assert books.get(Loan, npl).non_accrual_since == ENTERS   # still 90+ days past due
    check_books(books)


def test_a_waived_penalty_of_a_non_accrual_loan_never_touches_income(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=1))
    day = ENTERS + timedelta(days=2)
    waive_penalty(books, loan_id=npl, amount="10.00", on=day, key="w", actor="tests")
    books.commit()
    assert net(books, npl, acc.PENALTY_INCOME) == 0
    assert net(books, npl, acc.MEMO_PENALTY) == owed(books, npl)[1]
    check_books(books)


def test_a_loan_paid_back_to_current_is_cured_and_everything_accrued_is_income(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=2))
    day = ENTERS + timedelta(days=3)
    repay(books, loan_id=npl, amount=amount_due(books, loan_id=npl, on=day), on=day, today=day,
          channel="sandbox_bank", key="all", actor="tests")
    books.commit()
    loan = books.get(Loan, npl)
    assert (loan.days_past_due, loan.non_accrual_since) == (0, None)
    rows = installments(books, npl)
    assert -net(books, npl, acc.INTEREST_INCOME) == sum((r.interest_accrued for r in rows), D(0))
    assert -net(books, npl, acc.PENALTY_INCOME) == sum((r.penalty for r in rows), D(0))
    for account in (acc.INTEREST_SUSPENDED, acc.PENALTY_SUSPENDED, acc.MEMO_INTEREST, acc.MEMO_PENALTY,
                    acc.MEMO_CONTRA):
        assert net(books, npl, account) == 0
    close(books, day, day + timedelta(days=1))    # back on accrual: the next day's interest is income again
    assert net(books, npl, acc.INTEREST_INCOME, day + timedelta(days=1)) < 0
    books.expire_all()   # the session keeps objects across commits: read the installments the night wrote
    check_books(books)


def test_a_written_off_non_accrual_loan_consumes_only_what_was_recognised_of_the_allowance(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=1))
    day = ENTERS + timedelta(days=2)
    balances = loan_balances(books, npl)
    write_off(books, loan_id=npl, on=day, key="wo", actor="tests")
    books.commit()
    after_day = loan_balances(books, npl)
    assert (after_day.principal, after_day.interest, after_day.penalty) == (0, 0, 0)
    assert net(books, npl, acc.LOAN_LOSS_ALLOWANCE) == balances.principal + balances.fee
    for account in (acc.INTEREST_SUSPENDED, acc.PENALTY_SUSPENDED, acc.MEMO_INTEREST, acc.MEMO_PENALTY):
        assert net(books, npl, account) == 0
    assert net(books, npl, acc.INTEREST_INCOME) == 0 and net(books, npl, acc.PENALTY_INCOME) == 0
    check_books(books)


def test_the_policy_is_dated_and_refuses_a_cure_not_below_the_entry():
    with pytest.raises(InvalidArgumentError) as raised:
        NonAccrualPolicy(date(2026, 1, 1), "test", after_days=30, cure_at_days=30)
    assert raised.value.field == "non_accrual"
    policy = NonAccrualPolicy(date(2026, 1, 1), "test", after_days=60, cure_at_days=30)
    assert [policy.on_non_accrual(False, d) for d in (60, 61)] == [False, True]
    assert [policy.on_non_accrual(True, d) for d in (31, 30)] == [True, False]


def test_every_day_the_books_hold_the_memo_equal_to_the_suspense(books, npl):
    close(books, ENTERS, ENTERS + timedelta(days=3))
    sums: dict[str, D] = defaultdict(lambda: D(0))
    for account, debit, credit in books.execute(select(Posting.account, Posting.debit, Posting.credit)):
        sums[account] += debit - credit
    assert sums[acc.MEMO_INTEREST] == -sums[acc.INTEREST_SUSPENDED]
    assert sums[acc.MEMO_PENALTY] == -sums[acc.PENALTY_SUSPENDED]
