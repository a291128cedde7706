"""The admin in a real headless Chromium, as the people using it click through it.

A product manager signs in, starts a product from the consumer sample in the generated form, gives a
field a bad value and sees the error at that field, fixes it, watches the live schedule preview (chart,
APR, cap proof) and submits. A second product manager reviews the field-level diff and publishes; the
product then appears in the channel API's OpenAPI document. A risk officer approves an application the
machines queued; another returns one for supplement, sees the channel's resubmission in the review history
with the credit report and approves it. Each step leaves a screenshot under ``test-output/admin/``.

The browser and the served app come from ``browser_helpers``.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from admin_helpers import queue_application
from browser_helpers import SHOTS, chromium_page, served_app, sign_in, sign_out
from sqlalchemy import select

from core.applications.models import Application
from core.origination.bureau_reports import record_bureau_report
from core.products.models import ProductVersion
from loanfactory.database import db_session

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, object]]:
    with served_app(tmp_path / "browser.sqlite3") as app:
        yield app


def test_a_product_goes_from_form_to_api_and_a_queued_application_is_approved(served) -> None:
    from playwright.sync_api import expect

    base, app = served
    with chromium_page() as page:
        sign_in(page, base, "product_manager")
        expect(page.locator("h4")).to_contain_text("驾驶舱")
        page.screenshot(path=SHOTS / "01-cockpit-product-manager.png")

        page.goto(f"{base}/admin/products/new?sample=consumer_installment")
        page.fill("[name='/code']", "CASH_BROWSER")
        page.fill("[name='/name/zh']", "浏览器测试贷")
        page.fill("[name='/overdue_grace_days']", "three")
        page.click("#action-validate")
        error = page.locator(".lf-field-error[data-pointer='/overdue_grace_days']").first
        expect(error).to_be_visible()
        expect(page.locator("[name='/overdue_grace_days']")).to_have_class(re.compile("is-invalid"))
        page.screenshot(path=SHOTS / "02-inline-error.png", full_page=False)

        page.fill("[name='/overdue_grace_days']", "3")
        page.locator("[name='/overdue_grace_days']").dispatch_event("change")
        expect(page.locator("#preview")).to_have_attribute("data-state", "ok", timeout=30000)
        expect(page.locator("#preview-apr")).to_have_text("18.2249%")
        expect(page.locator("#preview-proof")).to_have_class("small mt-2 text-success")
        page.locator("#preview").screenshot(path=SHOTS / "03-live-preview.png")

        page.click("#action-submit")
        expect(page.locator(".lf-status").first).to_have_attribute("data-status", "in_review")
        page.screenshot(path=SHOTS / "04-submitted.png")
        sign_out(page)

        sign_in(page, base, "product_manager2")
        with app.app_context():
            version_id = db_session().scalar(select(ProductVersion.id).where(ProductVersion.code == "CASH_BROWSER"))
        page.goto(f"{base}/admin/products/{version_id}/review")
        expect(page.locator("#diff tr[data-pointer='/code']")).to_be_visible()
        page.screenshot(path=SHOTS / "05-review-diff.png")
        page.click("#lifecycle form[action$='/publish'] button")
        expect(page.locator("#review-status")).to_have_attribute("data-status", "published")
        page.screenshot(path=SHOTS / "06-published.png")
        sign_out(page)

        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as response:
            openapi = json.load(response)
        assert "CASH_BROWSER" in json.dumps(openapi)

        application_id = queue_application(app)
        sign_in(page, base, "risk_officer")
        page.goto(f"{base}/admin/approvals/")
        expect(page.locator(".lf-sla").first).not_to_be_empty()
        page.screenshot(path=SHOTS / "07-approval-inbox.png")
        page.click("#approval-tasks a.btn-primary")
        page.fill("#decision-form textarea[name=comment]", "收入已核实")
        page.screenshot(path=SHOTS / "08-approval-task.png")
        page.click("#approve")
        page.wait_for_url(f"{base}/admin/approvals/")
        page.screenshot(path=SHOTS / "09-approved.png")
    with app.app_context():
        assert db_session().get(Application, application_id).state == "approved"


def test_a_risk_officer_returns_an_application_and_approves_the_resubmission(served) -> None:
    """Return for supplement in the browser: the comment, the channel's resubmission through the API, the
    review history and the credit report (revealed, audited), then the approval."""
    from playwright.sync_api import expect
    from test_admin_returns import REPORT

    from tests.api.conftest import new_key

    base, app = served
    application_id = queue_application(app)
    with app.app_context():  # a report with accounts, court records and a blacklist hit, to see them all
        record_bureau_report(db_session(), application_id, REPORT, datetime.now(UTC))
        db_session().commit()
    with chromium_page() as page:
        sign_in(page, base, "risk_officer")
        page.goto(f"{base}/admin/approvals/")
        page.click("#approval-tasks a.btn-primary")
        expect(page.locator("#bureau")).to_be_visible()
        page.fill("#decision-form textarea[name=comment]", "请补充近六个月银行流水")
        page.screenshot(path=SHOTS / "10-return-comment.png")
        page.click("#return")
        page.wait_for_url(f"{base}/admin/approvals/")
        expect(page.locator(f"#returned tr[data-returned='{application_id}']")).to_contain_text("银行流水")
        expect(page.locator("#returned .lf-sla").first).not_to_be_empty()
        page.screenshot(path=SHOTS / "11-returned-waiting.png")

        body = json.dumps({"comment": "流水已上传", "documents": [
            {"type": "bank_statement", "reference": "oss://partner/statement.pdf"}]}).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/applications/{application_id}/resubmission", data=body, method="POST",
            headers={"X-API-Key": new_key(app), "Content-Type": "application/json",
                     "Idempotency-Key": f"resubmit-{application_id}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["state"] == "under_review"

        page.goto(f"{base}/admin/approvals/")
        page.click("#approval-tasks a.btn-primary")
        expect(page.locator("#approvals li[data-kind='return']")).to_contain_text("银行流水")
        expect(page.locator("#approvals li[data-kind='resubmit']")).to_contain_text("oss://partner/statement.pdf")
        page.fill("#reveal-bureau input[name=reason]", "核实负债")
        page.click("#reveal-bureau button")
        expect(page.locator("#bureau")).to_contain_text("审计日志")
        expect(page.locator("#bureau-accounts")).to_contain_text("6222020200112233445")
        page.screenshot(path=SHOTS / "12-resubmitted-history.png", full_page=True)
        page.click("#approve")
        page.wait_for_url(f"{base}/admin/approvals/")
        page.screenshot(path=SHOTS / "13-approved-after-resubmission.png")
    with app.app_context():
        assert db_session().get(Application, application_id).state == "approved"


def test_the_api_docs_page_renders_under_the_content_security_policy(served) -> None:
    base, _app = served
    with chromium_page() as page:
        response = page.goto(f"{base}/api/docs")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 0
        page.screenshot(path=str(SHOTS / "api-docs.png"))
