"""What the admin shows for stored codes and moments, and what a clone may change, in the user's language."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

from admin.labels import account_label, code_label, moment_label, reason_label, subject_label
from core.products.models import ProductVersion
from loanfactory.database import db_session

SHANGHAI = timezone(timedelta(hours=8))


def test_a_moment_is_shown_in_beijing_time_saying_so_whether_stored_with_an_offset_or_as_utc(app):
    """01:30 UTC is 09:30 in Beijing (UTC+8, no daylight saving): SQLite gives the UTC clock back without a
    zone, PostgreSQL gives it with one (possibly another offset); both read the same."""
    with app.test_request_context():
        naive_utc = datetime(2026, 3, 1, 1, 30)
        for stored in (naive_utc, naive_utc.replace(tzinfo=UTC), datetime(2026, 3, 1, 9, 30, tzinfo=SHANGHAI),
                       datetime(2026, 2, 28, 20, 30, tzinfo=timezone(timedelta(hours=-5)))):
            assert moment_label(stored) == "2026-03-01 09:30 北京时间"
        assert moment_label(naive_utc, seconds=True) == "2026-03-01 09:30:00 北京时间"
    with app.test_request_context(), app.test_client() as client:
        client.get("/admin/lang/en")
        assert moment_label(naive_utc) == "2026-03-01 09:30 Beijing time"


def test_codes_read_as_words_in_chinese(app):
    with app.test_request_context():
        assert [code_label(c) for c in ("in_review", "published", "equal_installment", "keep_term", "nominal_irr",
                                        "individual", "risk_officer", "posted", "pending")] == [
            "审核中", "已发布", "等额本息", "保持期限不变，降低月供", "名义内部收益率（IRR）", "个人", "审批员",
            "已入账", "待处理"]
        assert account_label("1303") == "1303 贷款本金" and account_label("2241") == "2241 溢缴款"
        assert account_label("1002.offline") == "1002.offline 银行存款-清算"
        assert reason_label("disbursed on 2026-01-15") == "2026-01-15 放款"
        assert subject_label("application:12") == "申请 #12"
        assert code_label("no_such_code") == "no_such_code"


def test_a_clones_code_is_fixed_at_the_field_and_a_changed_code_is_refused_there_in_chinese(app, login,
                                                                                               version_in_review):
    checker = login("product_manager2")
    checker.get(f"/admin/products/{version_in_review}/review")
    checker.post(f"/admin/products/{version_in_review}/publish")
    pm = login("product_manager")
    pm.get(f"/admin/products/{version_in_review}/review")
    clone = pm.post(f"/admin/products/{version_in_review}/clone")
    editor = pm.get(clone.location)
    assert 'name="/code"' in editor.text and 'lf-fixed" data-pointer="/code"' in editor.text
    code_input = editor.text.split('name="/code"')[1].split(">")[0]
    assert "readonly" in code_input
    clone_id = int(clone.location.rstrip("/").split("/")[-1])
    with app.app_context():
        document = dict(db_session().get(ProductVersion, clone_id).document)
    document["code"] = "CASH_OTHER"
    refused = pm.post(f"/admin/products/{clone_id}", {"_mode": "json", "_action": "save",
                                                      "document": json.dumps(document, default=str)})
    assert refused.status_code == 200
    assert 'data-pointer="/code">' in refused.text and "新版本沿用产品代码 CASH_TEST" in refused.text
    with app.app_context():
        assert db_session().get(ProductVersion, clone_id).code == "CASH_TEST"


def test_the_plugin_call_list_says_its_zone(app, login):
    page = login("admin").get("/admin/plugins/")
    assert "UTC" not in page.text and "时间" in page.text


def test_the_review_shows_a_semantic_diff_with_field_titles_and_values_in_words(app, login, version_in_review):
    """A clone drops term 3, adds term 36 and moves the default rate from 14% to 15%: three changes, each
    under the field's titles, rates as percentages; no schema reference, no raw pointer."""
    checker = login("product_manager2")
    checker.get(f"/admin/products/{version_in_review}/review")
    checker.post(f"/admin/products/{version_in_review}/publish")
    pm = login("product_manager")
    pm.get(f"/admin/products/{version_in_review}/review")
    clone = pm.post(f"/admin/products/{version_in_review}/clone")
    clone_id = int(clone.location.rstrip("/").split("/")[-1])
    with app.app_context():
        document = dict(db_session().get(ProductVersion, clone_id).document)
    values = [int(v) for v in document["term"]["values"]]
    assert 3 in values and 36 not in values
    document["term"] = {**document["term"], "values": [v for v in values if v != 3] + [36]}
    document["rate"] = {**document["rate"], "annual": {**document["rate"]["annual"], "default": "0.15"}}
    document["$schema"] = "product.schema.json"
    pm.get(clone.location)
    saved = pm.post(f"/admin/products/{clone_id}", {"_mode": "json", "_action": "save",
                                                    "document": json.dumps(document, default=str)})
    assert saved.status_code == 302, saved.text[:500]
    review = login("risk_manager").get(f"/admin/products/{clone_id}/review")
    rows = re.findall(r'<tr class="lf-diff-changed" data-pointer="([^"]*)" data-kind="(\w+)"><td class="lf-diff-field">'
                      r'([^<]*)</td><td>[^<]*</td>\s*<td class="lf-diff-before lf-data">([^<]*)</td>'
                      r'<td class="lf-diff-after lf-data">([^<]*)</td>', review.text)
    assert sorted((kind, label, before, after) for _pointer, kind, label, before, after in rows) == sorted([
        ("removed", "期限 › 可选期限", "3", ""), ("added", "期限 › 可选期限", "", "36"),
        ("changed", "利率 › 年利率区间 › 默认年利率", "14%", "15%")])
    assert "$schema" not in review.text and "<code>/term" not in review.text


def test_a_kernel_refusal_reads_in_the_users_language_with_its_figures(app):
    from admin.refusals import refusal_text
    from core.errors import LoanFactoryError
    from core.loans.errors import MoneyLeftHeldError, PrepaymentTooEarlyError, QuoteChangedError

    with app.test_request_context():
        assert refusal_text(MoneyLeftHeldError("keep_for_refund: ...", field="keep_for_refund", value="14.10")) == (
            "操作被拒绝：贷款结清后仍将留存 14.10 元溢缴款：请只收取应收合计，或勾选“留存待退还借款人”。")
        early = PrepaymentTooEarlyError("on: this loan's contract accepts prepayment from 2026-04-15", field="on",
                                        value="2026-02-15")
        assert refusal_text(early) == "操作被拒绝：本贷款合同自 2026-04-15 起方可提前还款。"
        changed = QuoteChangedError("quoted_total: the quote is now 10116.67, not 9000.00; quote again",
                                    field="quoted_total", value="9000.00")
        assert refusal_text(changed) == "操作被拒绝：报价已变为 10116.67：请重新报价。"
        assert refusal_text(LoanFactoryError("a rule not in the table")) == "操作被拒绝：a rule not in the table"


def test_an_approval_task_shows_reason_codes_with_their_meaning_and_the_facts_as_a_table(app, login):
    from admin_helpers import queue_application
    from sqlalchemy import select

    from core.applications.models import Application
    from core.origination.approval import ApprovalTask

    application_id = queue_application(app)
    with app.app_context():
        task_id = db_session().scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id))
        codes = db_session().get(Application, application_id).reason_codes
    page = login("risk_officer").get(f"/admin/approvals/{task_id}").text
    assert codes and all(re.search(rf'data-code="{c}"><code>{c}</code> [^<\s]+', page) for c in codes)
    assert "<th>负债收入比</th><td>" in page and re.search(r"<th>负债收入比</th><td>[0-9.]+%</td>", page)
    assert "<th>还款方式</th><td>等额本息</td>" in page and '"dti"' not in page
