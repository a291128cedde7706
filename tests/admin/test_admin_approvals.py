"""The approval inbox: a risk officer decides what the machines could not, four eyes where asked."""

from admin_helpers import queue_application
from sqlalchemy import select

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.origination.approval import ApprovalTask
from loanfactory.database import db_session


def task_of(app, application_id):
    with app.app_context():
        return db_session().scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id))


def state_of(app, application_id):
    with app.app_context():
        return db_session().get(Application, application_id).state


def test_a_risk_officer_approves_a_queued_application_and_it_is_audited(app, login):
    application_id = queue_application(app)
    task_id = task_of(app, application_id)
    officer = login("risk_officer")
    inbox = officer.get("/admin/approvals/")
    assert f'data-task="{task_id}"' in inbox.text and "张*" in inbox.text and 'class="lf-sla"' in inbox.text
    page = officer.get(f"/admin/approvals/{task_id}")
    assert "110***********" in page.text and "138****5678" in page.text and 'id="score"' in page.text
    officer.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve", "comment": "收入已核实"})
    assert state_of(app, application_id) == "approved"
    with app.app_context():
        event = db_session().scalar(select(AuditEvent).where(AuditEvent.action == "approval.approve"))
    assert event.actor == "risk_officer" and event.comment == "收入已核实"
    assert event.before["application"] == "under_review" and event.after["application"] == "approved"


def test_a_rejection_needs_a_comment(app, login):
    application_id = queue_application(app)
    task_id = task_of(app, application_id)
    officer = login("risk_officer")
    officer.get(f"/admin/approvals/{task_id}")
    officer.post(f"/admin/approvals/{task_id}/decide", {"decision": "reject", "comment": ""})
    assert state_of(app, application_id) == "under_review"
    officer.post(f"/admin/approvals/{task_id}/decide", {"decision": "reject", "comment": "收入证明不符"})
    assert state_of(app, application_id) == "rejected"


def test_four_eyes_need_two_different_officers(app, login):
    application_id = queue_application(app, "45000.00", monthly_income="40000.00")
    task_id = task_of(app, application_id)
    first = login("risk_officer")
    first.get(f"/admin/approvals/{task_id}")
    first.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"})
    assert state_of(app, application_id) == "under_review"
    again = first.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"}, follow_redirects=True)
    assert "four eyes" in again.text and state_of(app, application_id) == "under_review"
    second = login("risk_officer2")
    second.get(f"/admin/approvals/{task_id}")
    second.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"})
    assert state_of(app, application_id) == "approved"


def test_a_task_for_another_role_cannot_be_decided(app, login):
    application_id = queue_application(app)
    task_id = task_of(app, application_id)
    manager = login("risk_manager")
    manager.get(f"/admin/approvals/{task_id}")
    assert manager.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"}).status_code == 403
    assert state_of(app, application_id) == "under_review"


def test_revealing_the_applicant_is_audited(app, login):
    application_id = queue_application(app)
    task_id = task_of(app, application_id)
    officer = login("risk_officer")
    officer.get(f"/admin/approvals/{task_id}")
    shown = officer.post(f"/admin/approvals/{task_id}/reveal", {"reason": "电话核实"})
    assert "13812345678" in shown.text
    with app.app_context():
        event = db_session().scalar(select(AuditEvent).where(AuditEvent.action == "pii.reveal"))
    assert event.actor == "risk_officer" and event.after["context"] == f"application {application_id}"


def test_the_task_shows_the_products_version_number_as_every_face_does(app, login):
    """The version's number (v1), never its row id (2 here, a bridge product published first), as the product
    list, the CLI and the API show it."""
    from tests.api.conftest import publish_sample

    assert publish_sample(app, "short_term_bridge") == 1
    application_id = queue_application(app)
    page = login("risk_officer").get(f"/admin/approvals/{task_of(app, application_id)}")
    assert "CONSUMER_INSTALLMENT (v1)" in page.text and "(v2)" not in page.text
