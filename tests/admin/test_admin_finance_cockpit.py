"""The cockpit's 不良率, 拨备覆盖率, 拨贷比 and income by product and month, against figures worked out by hand.

Two loans of 10,000 at 14%: k1 disbursed 2026-06-01 (current on 06-30), k2 disbursed 2026-01-15, first due
2026-02-15 and never paid: 135 days past due at the end of 2026-06-30 (M5, 次级). A five-tier provision on
06-30: k1 正常 0, k2 25% = 2,500.00, general reserve 1% of 20,000 = 200.00: 2,700.00 held. So 不良率
10,000 / 20,000 = 50%, 拨备覆盖率 2,700 / 10,000 = 27%, 拨贷比 2,700 / 20,000 = 13.5%.
"""

from datetime import date
from decimal import Decimal

from admin_helpers import book_loan
from sqlalchemy import select

from admin.kpis import compute
from core.businessday.calendar import seed_calendar
from core.eod import run_eod
from core.finance.provision_posting import book_provision
from core.ledger import JournalEntry, Posting
from core.ledger import accounts as acc
from core.loans.models import Loan
from loanfactory.database import db_session

DAY = date(2026, 6, 30)


def test_the_cockpit_shows_the_npl_coverage_and_allowance_ratios_and_income_by_month(app, login):
    book_loan(app, "k1", start=date(2026, 6, 1))
    book_loan(app, "k2")
    with app.app_context():
        db = db_session()
        seed_calendar(db, date(2026, 1, 1), date(2026, 12, 31))
        run_eod(db, DAY)
        booked = book_provision(db, DAY)
        db.commit()
        assert booked.change == Decimal("2700.00")
        kpis = compute(db, DAY)
        income: dict[tuple[str, str], Decimal] = {}
        for product, day, debit, credit in db.execute(
                select(Loan.product_code, JournalEntry.business_date, Posting.debit, Posting.credit)
                .select_from(Posting).join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .join(Loan, Loan.id == Posting.loan_id)
                .where(Posting.account.in_((acc.INTEREST_INCOME, acc.PENALTY_INCOME, acc.FEE_INCOME)))):
            key = (product, day.strftime("%Y-%m"))
            income[key] = income.get(key, Decimal(0)) + credit - debit
    assert kpis.npl_ratio == Decimal("0.5000")
    assert kpis.coverage_ratio == Decimal("0.2700")
    assert kpis.allowance_ratio == Decimal("0.1350")
    assert kpis.income == income and set(income) == {("CONSUMER_INSTALLMENT", "2026-06")}
    with app.app_context():
        now = compute(db_session())      # the page shows the book at the end of today, whatever today is
    page = login("finance").get("/admin/")
    assert page.status_code == 200
    shown_on_page = (("不良率", now.npl_ratio), ("拨备覆盖率", now.coverage_ratio), ("拨贷比", now.allowance_ratio))
    for label, value in shown_on_page:
        shown = f"{value * 100:.2f}%"
        card = page.text[page.text.index(label):]
        assert shown in card[:card.index("</div></div>")]
    assert 'id="chart-income"' in page.text and "分产品分月收入" in page.text
