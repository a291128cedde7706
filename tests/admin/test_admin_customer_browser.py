"""The customer screens in a real headless Chromium: a risk officer searches a customer by ID number, opens
the 360 page, tags them and goes on to the enterprise they represent. Screenshots under
``test-output/admin/``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from admin_helpers import ID_NUMBER, book_loan
from test_admin_browser import SHOTS, chromium_page, served, sign_in  # noqa: F401  (served: the fixture)

from core.customers.enterprises import register_enterprise
from core.customers.parties import find_by_id_number
from loanfactory.database import db_session

pytestmark = pytest.mark.browser


def test_a_risk_officer_finds_a_customer_reads_the_360_page_and_tags_them(served) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, app = served
    book_loan(app)
    with app.app_context():
        db = db_session()
        person = find_by_id_number(db, ID_NUMBER)
        register_enterprise(db, person.id, name="深圳市示例科技有限公司", credit_code="9144030071526726XG",
                            industry_code="I6513", registered_capital=Decimal("1000000"),
                            registered_address="深圳市南山区科技园 1 号", operating_address=None,
                            account_bank_code="CMB", account_number="755912345678901",
                            account_holder="深圳市示例科技有限公司")
        db.commit()
        person_id = person.id
    with chromium_page() as page:
        sign_in(page, base, "risk_officer")
        page.goto(f"{base}/admin/customers/")
        page.fill("#customer-search [name=q]", ID_NUMBER)
        page.click("#customer-search button[type=submit]")
        expect(page.locator("#individuals")).to_contain_text("110***********002X")
        expect(page.locator("#individuals")).not_to_contain_text(ID_NUMBER)
        page.screenshot(path=SHOTS / "20-customer-search.png")

        page.click(f"#individuals a[href$='/individual/{person_id}']")
        expect(page.locator("#customer-file")).to_contain_text("138****5678")
        expect(page.locator("#customer-loans")).to_contain_text("10,000.00")
        expect(page.locator("#customer-profile")).to_contain_text("10,000.00")
        # the demo loan's business date is long after its first due dates: the unpaid installments warn first
        expect(page.locator(".customer-warning").first).to_contain_text("期已逾期未还")
        page.screenshot(path=SHOTS / "21-customer-360.png", full_page=True)

        page.fill("#form-tag [name=code]", "vip")
        page.fill("#form-tag [name=note]", "大客户")
        page.click("#form-tag button[type=submit]")
        expect(page.locator("#customer-tags")).to_contain_text("VIP")
        expect(page.locator(".customer-warning", has_text="人工标签：VIP")).to_be_visible()
        page.screenshot(path=SHOTS / "22-customer-tagged.png", full_page=True)

        page.click("#customer-file a[href*='/enterprise/']")
        expect(page.locator("#customer-file")).to_contain_text("9144030071526726XG")
        expect(page.locator("#customer-relations")).to_contain_text("法定代表人")
        page.screenshot(path=SHOTS / "23-enterprise-file.png", full_page=True)
