"""The inbox's return for supplement, four-eyes send-back and the whole credit report, masked and revealed."""

from datetime import UTC, date, datetime
from decimal import Decimal

from admin_helpers import queue_application
from sqlalchemy import select

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.origination.approval import ApprovalTask
from core.origination.bureau_reports import record_bureau_report
from core.origination.returns import ApplicationReturn
from core.plugins.types import BlacklistRecord, BureauAccount, BureauInquiry, BureauReport, CourtRecord
from loanfactory.database import db_session
from tests.api.conftest import Channel, new_key

COMMENT = "请补充近六个月银行流水"


def open_task(app, application_id):
    with app.app_context():
        return db_session().scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id,
                                                                 ApprovalTask.state == "open"))


def state_of(app, application_id):
    with app.app_context():
        return db_session().get(Application, application_id).state


def audit_of(app, action):
    with app.app_context():
        return db_session().scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_return_needs_a_comment_then_waits_for_the_channel_and_comes_back_with_the_history(app, login):
    application_id = queue_application(app)
    task_id = open_task(app, application_id)
    officer = login("risk_officer")
    page = officer.get(f"/admin/approvals/{task_id}")
    assert 'id="return"' in page.text and "退回补件（7 天内补交）" in page.text
    officer.post(f"/admin/approvals/{task_id}/return", {"comment": "  "})
    assert state_of(app, application_id) == "under_review" and audit_of(app, "approval.return") == []

    app.config["RETURN_RESUBMIT_DAYS"] = 3
    done = officer.post(f"/admin/approvals/{task_id}/return", {"comment": COMMENT}, follow_redirects=True)
    assert "补交" in done.text and state_of(app, application_id) == "returned"
    (event,) = audit_of(app, "approval.return")
    assert event.actor == "risk_officer" and event.comment == COMMENT
    assert event.before == {"task": "open", "application": "under_review", "approvals": 0}
    assert event.after == {"task": "returned", "application": "returned", "approvals": 1}
    with app.app_context():
        record = db_session().scalars(select(ApplicationReturn)).one()
        assert (record.resubmit_by - record.returned_at).days == 3
    inbox = officer.get("/admin/approvals/")
    assert f'data-returned="{application_id}"' in inbox.text and COMMENT in inbox.text
    assert f'data-task="{task_id}"' not in inbox.text

    seller = Channel(app.test_client(), new_key(app, channel="partner-app-2"))
    assert seller.post(f"/api/v1/applications/{application_id}/resubmission", {"comment": "x"}).status_code == 404
    with app.app_context():
        channel = db_session().get(Application, application_id).channel
    owner = Channel(app.test_client(), new_key(app, channel=channel))
    answer = owner.post(f"/api/v1/applications/{application_id}/resubmission", {
        "comment": "流水已上传", "documents": [{"type": "bank_statement", "reference": "oss://b/1.pdf"}]})
    assert answer.status_code == 200 and state_of(app, application_id) == "under_review"
    reopened = open_task(app, application_id)
    page = officer.get(f"/admin/approvals/{reopened}")
    kinds = [part.split('"')[0] for part in page.text.split('data-kind="')[1:]]
    assert kinds == ["return", "resubmit"]
    assert COMMENT in page.text and "流水已上传" in page.text and "oss://b/1.pdf" in page.text
    officer.post(f"/admin/approvals/{reopened}/decide", {"decision": "approve"})
    assert state_of(app, application_id) == "approved"


def test_in_four_eyes_the_second_reviewer_sends_the_approval_back_to_the_first(app, login):
    application_id = queue_application(app, "45000.00", monthly_income="40000.00")
    task_id = open_task(app, application_id)
    first, second = login("risk_officer"), login("risk_officer2")
    first.get(f"/admin/approvals/{task_id}")
    first.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve", "comment": "收入已核实"})
    assert 'id="send-back"' not in first.get(f"/admin/approvals/{task_id}").text
    page = second.get(f"/admin/approvals/{task_id}")
    assert 'id="send-back"' in page.text
    second.post(f"/admin/approvals/{task_id}/send-back", {"comment": ""})
    assert audit_of(app, "approval.send_back") == []
    second.post(f"/admin/approvals/{task_id}/send-back", {"comment": "流水与收入不符，请再核"})
    (event,) = audit_of(app, "approval.send_back")
    assert event.before["approvals"] == 1 and event.after["approvals"] == 0
    inbox = second.get("/admin/approvals/")
    assert "已退回 risk_officer" in inbox.text
    refused = second.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"}, follow_redirects=True)
    assert "sent back to risk_officer" in refused.text and state_of(app, application_id) == "under_review"
    first.get(f"/admin/approvals/{task_id}")
    first.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve", "comment": "已电话核实"})
    assert state_of(app, application_id) == "under_review"
    second.get(f"/admin/approvals/{task_id}")
    second.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"})
    assert state_of(app, application_id) == "approved"


REPORT = BureauReport(
    report_id="RPT-2026-0001", bureau="sandbox_bureau", as_of=date(2026, 11, 1),
    accounts=(BureauAccount(account_id="6222020200112233445", lender="招商银行", lender_type="bank", account_type="R1",
                            opened_on=date(2024, 3, 1), closed_on=None, credit_amount=Decimal("50000.00"),
                            balance=Decimal("12345.67"), overdue_amount=Decimal("0"), status="1",
                            grid="////NNNNNNNNN1NNNNNNNNNN"),
              BureauAccount(account_id="D1-998877", lender="某小贷", lender_type="microloan", account_type="D1",
                            opened_on=date(2023, 1, 5), closed_on=date(2024, 1, 5), credit_amount=Decimal("8000.00"),
                            balance=Decimal("0"), overdue_amount=Decimal("0"), status="3",
                            grid="NN12NNNNNNNNC***********")),
    inquiries=(BureauInquiry(queried_on=date(2026, 10, 2), institution="招联消费金融", reason="02"),),
    court_records=(CourtRecord(case_number="(2024)京0105执1234号", filed_on=date(2024, 6, 1), kind="enforcement",
                               amount=Decimal("6789.00"), status="closed"),),
    blacklist=(BlacklistRecord(source="court_dishonest", listed_on=date(2024, 7, 1), reason="未履行判决"),))


def test_the_whole_credit_report_is_shown_masked_and_revealing_it_is_audited(app, login):
    application_id = queue_application(app)
    task_id = open_task(app, application_id)
    with app.app_context():
        record_bureau_report(db_session(), application_id, REPORT, datetime.now(UTC))
        db_session().commit()
    officer = login("risk_officer")
    page = officer.get(f"/admin/approvals/{task_id}").text
    assert "RPT-2026-0001" in page and "招商银行" in page and "招联消费金融" in page and "未履行判决" in page
    assert "***************3445" in page and "6222020200112233445" not in page
    assert "*****8877" in page and "998877" not in page
    assert "(2024)京0105执****号" in page and "1234号" not in page
    assert "12,345.67" not in page and "50,000.00" not in page and "6,789.00" not in page
    grid = "<span>N</span><span>N</span><span class=\"lf-grid-bad\">1</span><span class=\"lf-grid-bad\">2</span>"
    assert grid in page and "<span>C</span>" in page
    shown = officer.post(f"/admin/approvals/{task_id}/reveal-bureau", {"reason": "核实负债"}).text
    assert "6222020200112233445" in shown and "12,345.67" in shown and "(2024)京0105执1234号" in shown
    (event,) = audit_of(app, "bureau_report.reveal")
    assert event.actor == "risk_officer" and event.comment == "核实负债"
    assert event.entity_id == str(application_id) and event.after["report_id"] == "RPT-2026-0001"
    officer.get(f"/admin/approvals/{task_id}")
    assert officer.post(f"/admin/approvals/{task_id}/reveal-bureau", {"reason": ""}).status_code == 302
    assert len(audit_of(app, "bureau_report.reveal")) == 1


def test_auditors_and_other_roles_cannot_return_send_back_or_reveal(app, login, fingerprint):
    application_id = queue_application(app)
    task_id = open_task(app, application_id)
    clients = {role: login(role) for role in ("auditor", "risk_manager", "finance", "operations", "product_manager",
                                              "admin")}
    before = fingerprint(app)
    for role, client in clients.items():
        for action, data in (("return", {"comment": COMMENT}), ("send-back", {"comment": COMMENT}),
                             ("decide", {"decision": "approve"}), ("reveal-bureau", {"reason": "x"})):
            if role == "risk_manager" and action == "reveal-bureau":
                continue  # a risk manager may reveal (the task's role only limits deciding)
            assert client.post(f"/admin/approvals/{task_id}/{action}", data).status_code == 403, (role, action)
    assert fingerprint(app) == before
    assert state_of(app, application_id) == "under_review"
