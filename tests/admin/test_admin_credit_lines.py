"""Credit lines in the admin: masked lines with their levels, dual-control changes, warnings, the coverage KPI."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.backoffice.audit import AuditEvent, ChangeRequest
from core.credit_lines.application import accept_line, apply_for_line
from core.credit_lines.models import CreditLine, LineEvent
from core.early_warning.models import EarlyWarning
from core.origination.published import published_offer
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins
from tests.api.conftest import application_body, publish_sample

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def line_id(app) -> int:
    publish_sample(app, "revolving_credit_line")
    with app.app_context():
        db = db_session()
        offer = published_offer(db, "REVOLVING_CREDIT_LINE")
        body = application_body("20000.00")
        del body["term"], body["method"]
        application = apply_for_line(db, get_plugins(app), offer, body, channel="partner-app",
                                     actor="channel:partner-app", now=NOW)
        line = accept_line(db, application, offer, actor="channel:partner-app", today=NOW.date(), now=NOW)
        db.commit()
        return line.id


def line(app, line_id):
    with app.app_context():
        db = db_session()
        found = db.get(CreditLine, line_id)
        db.expunge(found)
        return found


def test_the_line_page_shows_every_level_with_the_customer_masked(app, login, line_id):
    auditor = login("auditor")
    listing = auditor.get("/admin/credit_lines/")
    assert f"#{line_id}" in listing.text and "张*" in listing.text and "20,000.00" in listing.text
    page = auditor.get(f"/admin/credit_lines/{line_id}")
    assert page.status_code == 200
    assert "110***********" in page.text and "张三" not in page.text.replace("张*", "")
    for level in ("policy", "customer", "line"):
        assert f'data-level="{level}"' in page.text
    assert 'id="chart-usage"' in page.text and 'id="line-actions"' not in page.text  # auditors file nothing


def test_a_limit_adjustment_waits_for_a_second_person_and_is_audited(app, login, line_id):
    officer = login("risk_officer")
    officer.get(f"/admin/credit_lines/{line_id}")
    officer.post(f"/admin/credit_lines/{line_id}/request/credit_line_adjust", {"limit": "100100.00",
                                                                               "reason": "review"})
    with app.app_context():
        assert db_session().scalar(select(ChangeRequest.id)) is None  # above the product's largest limit
    officer.post(f"/admin/credit_lines/{line_id}/request/credit_line_adjust", {"limit": "15000.00",
                                                                               "reason": "income fell"})
    assert line(app, line_id).limit == Decimal("20000.00")
    with app.app_context():
        request_id = db_session().scalar(select(ChangeRequest.id))
    assert officer.post(f"/admin/credit_lines/requests/{request_id}", {"decision": "approve"}).status_code == 403
    manager = login("risk_manager")
    inbox = manager.get("/admin/credit_lines/requests")
    assert "income fell" in inbox.text
    manager.post(f"/admin/credit_lines/requests/{request_id}", {"decision": "approve", "comment": "ok"})
    assert line(app, line_id).limit == Decimal("15000.00")
    with app.app_context():
        db = db_session()
        assert db.get(ChangeRequest, request_id).state == "executed"
        event = db.scalars(select(LineEvent).where(LineEvent.event == "adjusted")).one()
        assert (event.actor, event.limit_before, event.limit_after) == ("risk_officer / risk_manager",
                                                                         Decimal("20000.00"), Decimal("15000.00"))
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "credit_line"))]
        assert actions == ["credit_line_adjust.request", "credit_line_adjust.approved"]


def test_a_freeze_is_filed_by_one_and_carried_out_by_another(app, login, line_id):
    officer = login("risk_officer")
    officer.get(f"/admin/credit_lines/{line_id}")
    officer.post(f"/admin/credit_lines/{line_id}/request/credit_line_freeze", {"reason": "fraud alert"})
    with app.app_context():
        request_id = db_session().scalar(select(ChangeRequest.id))
    manager = login("risk_manager")
    manager.get("/admin/credit_lines/requests")
    manager.post(f"/admin/credit_lines/requests/{request_id}", {"decision": "approve"})
    assert line(app, line_id).state == "frozen"
    operations = login("operations")
    operations.post(f"/admin/credit_lines/{line_id}/request/credit_line_freeze", {"reason": "again"})
    with app.app_context():  # a frozen line cannot be frozen again: nothing is filed
        assert db_session().scalars(select(ChangeRequest.kind)).all() == ["credit_line_freeze"]


def test_a_warning_is_handled_with_a_note_by_a_risk_officer_only(app, login, line_id):
    with app.app_context():
        db = db_session()
        warning = EarlyWarning(line_id=line_id, customer_id=line(app, line_id).customer_id, rule_code="OVERDUE",
                               rule_set_version=1, severity="high", signal="days_past_due", value="3",
                               action="flag", state="open", raised_on=date(2026, 3, 2))
        db.add(warning)
        db.commit()
        warning_id = warning.id
    auditor = login("auditor")
    assert f"#{line_id}" in auditor.get("/admin/credit_lines/warnings").text
    assert auditor.post(f"/admin/credit_lines/warnings/{warning_id}", {"outcome": "handled",
                                                                        "note": "x"}).status_code == 403
    officer = login("risk_officer")
    assert 'data-todo="warnings"' in officer.get("/admin/").text
    officer.get("/admin/credit_lines/warnings")
    officer.post(f"/admin/credit_lines/warnings/{warning_id}", {"outcome": "handled", "note": ""})
    with app.app_context():
        assert db_session().get(EarlyWarning, warning_id).state == "open"  # a note is required
    officer.post(f"/admin/credit_lines/warnings/{warning_id}", {"outcome": "handled", "note": "已电话联系"})
    with app.app_context():
        db = db_session()
        handled = db.get(EarlyWarning, warning_id)
        assert (handled.state, handled.handled_by, handled.note) == ("handled", "risk_officer", "已电话联系")
        assert db.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "early_warning")) == \
            "early_warning.handled"


def test_the_cockpit_shows_the_early_warning_coverage(app, login, line_id):
    page = login("risk_manager").get("/admin/")
    assert 'data-kpi="warning_coverage"' in page.text and "预警覆盖率（0 个逾期额度中 0 个提前预警）" in page.text
