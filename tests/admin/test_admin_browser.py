"""The admin in a real headless Chromium, as the people using it click through it.

A product manager signs in, starts a product from the consumer sample in the generated form, gives a
field a bad value and sees the error at that field, fixes it, watches the live schedule preview (chart,
APR, cap proof) and submits. A second product manager reviews the field-level diff and publishes; the
product then appears in the channel API's OpenAPI document. A risk officer approves an application the
machines queued; another returns one for supplement, sees the channel's resubmission in the review history
with the credit report and approves it. Each step leaves a screenshot under ``test-output/admin/``.

Debian's ``chromium`` is driven through Playwright's Python package (``playwright install`` cannot
download browsers here); the app is served from a thread on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from admin_helpers import PASSWORD, make_admin_app, queue_application
from sqlalchemy import select
from werkzeug.serving import make_server

from core.applications.models import Application
from core.origination.bureau_reports import record_bureau_report
from core.products.models import ProductVersion
from loanfactory.database import db_session
from tests.conftest import require_service

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "admin"

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, object]]:
    require_service(os.path.exists(CHROMIUM) and shutil.which("chromium") is not None,
                    "Chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_service(False, "the playwright Python package is not installed")
    app = make_admin_app(f"sqlite:///{tmp_path}/browser.sqlite3")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def chromium_page() -> Iterator[object]:
    """A page of Debian's Chromium, headless, closed afterwards."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15000)
        refused: list[str] = []  # what the Content-Security-Policy blocked: it must block none of our own
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        try:
            yield page
            assert refused == []
        finally:
            browser.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def sign_out(page) -> None:
    page.click("form[action$='/admin/logout'] button")


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
        expect(page.locator("#preview-apr")).to_have_text("0.182249")
        expect(page.locator("#preview-proof")).to_have_class("small mt-2 text-success")
        page.locator("#preview").screenshot(path=SHOTS / "03-live-preview.png")

        page.click("#action-submit")
        expect(page.locator(".lf-status").first).to_have_text("in_review")
        page.screenshot(path=SHOTS / "04-submitted.png")
        sign_out(page)

        sign_in(page, base, "product_manager2")
        with app.app_context():
            version_id = db_session().scalar(select(ProductVersion.id).where(ProductVersion.code == "CASH_BROWSER"))
        page.goto(f"{base}/admin/products/{version_id}/review")
        expect(page.locator("#diff tr[data-pointer='/code']")).to_be_visible()
        page.screenshot(path=SHOTS / "05-review-diff.png")
        page.click("#lifecycle form[action$='/publish'] button")
        expect(page.locator("#review-status")).to_have_text("published")
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
