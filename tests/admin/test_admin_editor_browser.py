"""The guided product editor and the servicing guards in Chromium, in Chinese and in English.

A product manager starts from the consumer sample: the form is in sections with a progress bar, each valid
at a glance; rates are typed as percentages; a list grows and shrinks in place (the page is not reloaded:
a marker set on ``window`` survives); a rate that breaks the APR cap is marked at the rate, and "Check"
brings the user back where they were. They submit; a second product manager opens the read-only version
(every section valid: no false problems from disabled fields), reads the review's diff in words and
publishes. An auditor opening a loan sees no servicing form and, trying a prepayment quote, gets the
admin's own refusal page in their language; operations quotes a prepayment that nets what the borrower
already paid. Screenshots: ``test-output/admin/editor-<language>-NN-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from admin_helpers import book_loan
from browser_helpers import SHOTS, chromium_page, served_app, sign_in, sign_out
from sqlalchemy import select

from core.products.models import ProductVersion
from loanfactory.database import db_session

pytestmark = pytest.mark.browser

WORDS = {
    "zh_CN": {"valid": "通过", "progress": "12/12 个部分已通过校验", "refused": "您无权执行此操作",
              "basics": "1. 基本信息", "quote": "已付款（溢缴款）抵扣", "published": "已发布"},
    "en": {"valid": "valid", "progress": "12 of 12 sections valid", "refused": "You may not do this",
           "basics": "1. Basics", "quote": "Already paid, held as overpayment", "published": "Published"},
}


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, object]]:
    with served_app(tmp_path / "editor.sqlite3") as app:
        yield app


def _language(page, base: str, language: str) -> None:
    page.goto(f"{base}/admin/lang/{language}")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_product_manager_walks_the_guided_editor_from_sample_to_publication(served, language) -> None:
    from playwright.sync_api import expect

    base, app = served
    words = WORDS[language]
    code = f"CASH_GUIDED_{language.upper()[:2]}"
    shot = lambda page, n, name: page.screenshot(path=SHOTS / f"editor-{language}-{n:02d}-{name}.png")  # noqa: E731
    with chromium_page() as page:
        sign_in(page, base, "product_manager")
        _language(page, base, language)
        page.goto(f"{base}/admin/products/new?sample=consumer_installment")
        expect(page.locator(".lf-section")).to_have_count(12)
        expect(page.locator("#section-basics .lf-section-toggle")).to_have_text(words["basics"])
        expect(page.locator("#editor-progress-text")).to_have_text(words["progress"], timeout=30000)
        expect(page.locator("#section-state-pricing")).to_contain_text(words["valid"])
        rate = page.locator("[name='/rate/annual/default']")
        expect(rate).to_have_value("14.00")
        expect(rate.locator("xpath=following-sibling::div")).to_have_text("%")
        shot(page, 1, "sections")

        page.fill("[name='/code']", code)
        page.evaluate("window.lfStayed = true")
        count = page.locator("[name^='/term/values/']").count()
        page.click("button[data-add='/term/values']")
        expect(page.locator("[name^='/term/values/']")).to_have_count(count + 1)
        assert page.evaluate("window.lfStayed") is True  # no reload
        page.fill(f"[name='/term/values/{count}']", "36")
        page.click("button[value='remove:/term/values/0']")
        expect(page.locator("[name^='/term/values/']")).to_have_count(count)
        assert page.evaluate("window.lfStayed") is True
        expect(page.locator("[name='/code']")).to_have_value(code)  # the rest of the form is kept
        shot(page, 2, "list-in-place")

        page.fill("[name='/rate/annual/max']", "36")
        page.locator("[name='/rate/annual/max']").dispatch_event("change")
        driver = page.locator(".lf-live-error[data-pointer='/rate/annual/max']")
        expect(driver).to_be_visible(timeout=30000)
        expect(page.locator("#section-state-pricing")).not_to_contain_text(words["valid"])
        page.locator("[name='/rate/annual/max']").scroll_into_view_if_needed()
        before = page.evaluate("window.scrollY")
        assert before > 500
        page.click("#action-validate")
        page.wait_for_load_state()
        expect(page.locator(".lf-field-error[data-pointer='/rate/annual/max']").first).to_be_visible()
        assert abs(page.evaluate("window.scrollY") - before) < 200  # back where the user was
        shot(page, 3, "cap-driver-marked")

        page.fill("[name='/rate/annual/max']", "17.00")
        page.locator("[name='/rate/annual/max']").dispatch_event("change")
        expect(page.locator("#preview")).to_have_attribute("data-state", "ok", timeout=30000)
        page.click("#action-submit")
        expect(page.locator(".lf-status").first).to_have_attribute("data-status", "in_review")
        sign_out(page)

        with app.app_context():
            version_id = db_session().scalar(select(ProductVersion.id).where(ProductVersion.code == code))
            document = db_session().get(ProductVersion, version_id).document
        assert 3 not in [int(v) for v in document["term"]["values"]] and "36" in map(str, document["term"]["values"])
        assert document["rate"]["annual"]["max"] == "0.1700"

        sign_in(page, base, "product_manager2")
        _language(page, base, language)
        page.goto(f"{base}/admin/products/{version_id}")
        expect(page.locator("#preview")).to_have_attribute("data-state", "ok", timeout=30000)
        expect(page.locator(".lf-live-error")).to_have_count(0)
        expect(page.locator("#editor-progress-text")).to_have_text(words["progress"])
        shot(page, 4, "read-only-valid")
        page.goto(f"{base}/admin/products/{version_id}/review")
        expect(page.locator("#diff tr[data-pointer='/code'] .lf-diff-field")).not_to_contain_text("/code")
        shot(page, 5, "review")
        page.click("#lifecycle form[action$='/publish'] button")
        expect(page.locator("#review-status")).to_have_text(words["published"])
        shot(page, 6, "published")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_loan_screens_follow_the_user_and_a_prepayment_nets_what_was_paid(served, language) -> None:
    from playwright.sync_api import expect

    base, app = served
    words = WORDS[language]
    loan_id = book_loan(app)
    with chromium_page() as page:
        sign_in(page, base, "operations")
        _language(page, base, language)
        page.goto(f"{base}/admin/loans/{loan_id}")
        page.fill("#form-repay input[name=amount]", "500.00")
        page.fill("#form-repay input[name=business_date]", "2026-02-10")
        page.click("#form-repay button")
        expect(page.locator("#loan-held")).to_contain_text("500.00")
        page.fill("#form-prepay input[name=business_date]", "2026-02-12")
        page.click("#quote-prepayment")
        expect(page.locator("#quote-held")).to_have_text("500.00")
        expect(page.locator("#prepayment-quote")).to_contain_text(words["quote"])
        page.screenshot(path=SHOTS / f"editor-{language}-07-prepayment-nets.png")
        sign_out(page)

        sign_in(page, base, "auditor")
        _language(page, base, language)
        page.goto(f"{base}/admin/loans/{loan_id}")
        expect(page.locator("#loan-summary")).to_be_visible()
        expect(page.locator("form[id^='form-']")).to_have_count(0)
        response = page.goto(f"{base}/admin/loans/{loan_id}/prepay/quote?business_date=2026-02-12")
        assert response.status == 403
        expect(page.locator("#lf-error")).to_contain_text(words["refused"])
        assert not re.search(r"\bForbidden\b", page.content())
        page.screenshot(path=SHOTS / f"editor-{language}-08-refused.png")
