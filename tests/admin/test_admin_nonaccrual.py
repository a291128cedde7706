"""The loan page shows whether a loan's income is recognised, and what it holds off-balance when it is not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from admin_helpers import book_loan

from core.businessday.calendar import seed_calendar
from core.eod import run_eod
from core.ledger import loan_balances
from loanfactory.database import db_session

NON_ACCRUAL_DAY = date(2026, 5, 20)  # the first installment, due 2026-02-15, is then 94 days past due


def test_the_loan_page_shows_non_accrual_and_the_amounts_held_off_balance(app, login):
    loan_id = book_loan(app)
    page = login("risk_officer").get(f"/admin/loans/{loan_id}")
    assert "正常计息入账" in page.text                     # on accrual
    with app.app_context():
        db = db_session()
        seed_calendar(db, date(2026, 1, 1), date(2026, 12, 31))
        run_eod(db, NON_ACCRUAL_DAY)
        db.commit()
        owed = loan_balances(db, loan_id)
    assert owed.interest > 0 and owed.penalty > 0
    page = login("risk_officer").get(f"/admin/loans/{loan_id}")
    row = page.text[page.text.index('id="loan-accrual"'):]
    row = row[:row.index("</tr>")]
    assert "自 2026-05-20 起停止计息入账" in row
    assert f"表外应收未收利息 {owed.interest.quantize(Decimal('0.01')):,}" in row
    assert f"表外应收未收罚息 {owed.penalty.quantize(Decimal('0.01')):,}" in row
