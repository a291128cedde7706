"""The reports' rebuilt past positions agree with what end-of-day recorded on those days.

Two loans are booked through servicing and closed day by day by the real end-of-day: X (12,000 from
2026-01-15) pays its first installment five days late, Y (6,000 from 2026-01-10) never pays. What EOD set
on each loan at 2026-02-28 (days past due, bucket, class) is noted, EOD runs on to 2026-03-31, and the
reports' reconstruction for both month ends must give the noted values and the journal's principal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import core.businessday.closes  # noqa: F401  (the end-of-day tables)
from core.businessday.calendar import seed_calendar
from core.customers.parties import Customer
from core.eod import run_eod
from core.ledger import loan_balances
from core.loans.delinquency import DEFAULT_CLASSIFICATION
from core.loans.disbursement import disburse
from core.loans.models import Loan
from core.loans.repayment import repay
from core.portfolio.positions import position
from core.schedule import LoanTerms
from plugins.reports.books import iter_loans, principal_balances


def noted(session, loan_id):
    session.expire_all()
    loan = session.get(Loan, loan_id)
    return loan.days_past_due, loan.bucket, loan.five_tier, loan_balances(session, loan_id).principal


def rebuilt(session, day):
    [loans] = list(iter_loans(session, opened_by=day, open_after=day))
    balances = principal_balances(session, [loan.id for loan in loans], day)
    return {loan.id: (p.days_past_due, p.bucket, p.five_tier.value, p.balance)
            for loan in loans for p in [position(loan, day, balances[loan.id], DEFAULT_CLASSIFICATION)]}


def test_positions_at_two_month_ends_match_what_eod_recorded(db_session):
    seed_calendar(db_session, date(2026, 1, 1), date(2026, 12, 31))
    person = Customer(name="李四", id_number="11010519491231002X", phone="13812345678")
    db_session.add(person)
    db_session.flush()

    def book(key, principal, start):
        return disburse(db_session, key=key, customer_id=person.id, channel="sandbox_bank", actor="tests",
                        terms=LoanTerms(Decimal(principal), Decimal("0.18"), 12, start), product_code="cash",
                        product_version_id=1).id

    x, y = book("X", "12000.00", date(2026, 1, 15)), book("Y", "6000.00", date(2026, 1, 10))
    run_eod(db_session, date(2026, 2, 19))
    repay(db_session, loan_id=x, amount=Decimal("1200.00"), on=date(2026, 2, 20), today=date(2026, 2, 20),
          channel="sandbox_bank", key="X-1", actor="tests")
    run_eod(db_session, date(2026, 2, 28))
    february = {x: noted(db_session, x), y: noted(db_session, y)}
    run_eod(db_session, date(2026, 3, 31))
    march = {x: noted(db_session, x), y: noted(db_session, y)}

    assert february[y][:3] == (18, "M1", "special_mention")  # the 02-10 installment unpaid for 18 days
    assert march[y][:3] == (49, "M2", "special_mention")  # 18 + 31 days
    assert february[x][0] == 0 and march[x][0] == 16  # 03-15 unpaid at 03-31
    assert rebuilt(db_session, date(2026, 2, 28)) == february
    assert rebuilt(db_session, date(2026, 3, 31)) == march
