"""The month-end page: provisions by both methods side by side, coverage, closed periods, the GL trial balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from admin_helpers import book_loan

from core.businessday.calendar import seed_calendar
from core.eod import run_eod
from core.finance.provision_posting import book_provision, provision_report
from loanfactory.database import db_session

DAY = date(2026, 6, 30)


def test_finance_sees_both_methods_side_by_side_and_the_trial_balance_by_gl_code(app, login):
    book_loan(app, "f1")   # 10,000 at 14% from 2026-01-15, never paid: 次级 on 06-30
    with app.app_context():
        db = db_session()
        seed_calendar(db, date(2026, 1, 1), date(2026, 12, 31))
        run_eod(db, DAY)
        book_provision(db, DAY)
        db.commit()
        report = provision_report(db, DAY)
    page = login("finance").get(f"/admin/finance/?day={DAY.isoformat()}")
    assert page.status_code == 200
    assert "贷款损失准备" in page.text and "预期信用损失" in page.text and "按会计科目试算平衡" in page.text
    for method, estimate in (("five_tier", report.five_tier), ("ecl", report.ecl)):
        assert f'data-total="{method}">{estimate.total:,.2f}<' in page.text
    assert report.five_tier.total == Decimal("10000.00") * Decimal("0.25") + Decimal("100.00")
    assert 'data-gl="130101"' in page.text and "尚无已结账月份" in page.text
    assert login("auditor").get("/admin/finance/").status_code == 200
    assert login("risk_officer").get("/admin/finance/").status_code == 403
