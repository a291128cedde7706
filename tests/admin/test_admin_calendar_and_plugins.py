"""The business calendar page (operations edit, audited) and the plugins page (everyone reads)."""

from datetime import date

from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.businessday.calendar import CalendarDay, seed_calendar
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins


def seed_may_2026(app):
    with app.app_context():
        seed_calendar(db_session(), date(2026, 5, 1), date(2026, 5, 31), holidays=[date(2026, 5, 1)],
                      notes={date(2026, 5, 1): "劳动节"})
        db_session().commit()


def test_operations_marks_a_make_up_working_day_and_the_log_keeps_before_and_after(app, login):
    seed_may_2026(app)
    ops = login("operations")
    page = ops.get("/admin/calendar/?month=2026-05")
    assert "劳动节" in page.text and "2026-05" in page.text
    response = ops.post("/admin/calendar/day", {"day": "2026-05-09", "is_business_day": "true", "note": "调休"})
    assert response.status_code == 302
    with app.app_context():
        db = db_session()
        assert db.get(CalendarDay, date(2026, 5, 9)).is_business_day is True
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.set_day"))
    assert event.actor == "operations"
    assert event.before == {"is_business_day": False, "note": ""}
    assert event.after == {"is_business_day": True, "note": "调休"}


def test_extending_the_calendar_adds_the_missing_days(app, login):
    seed_may_2026(app)
    ops = login("admin")
    ops.get("/admin/calendar/")
    ops.post("/admin/calendar/extend", {"until": "2026-06-30"})
    with app.app_context():
        assert db_session().get(CalendarDay, date(2026, 6, 30)) is not None


def test_a_day_outside_the_calendar_is_refused_with_the_reason(app, login):
    ops = login("operations")
    ops.get("/admin/calendar/")
    response = ops.post("/admin/calendar/day", {"day": "2031-01-01", "is_business_day": "true"},
                        follow_redirects=True)
    assert "2031-01-01" in response.text and "拒绝" in response.text


class ProbePlugin:
    """A plugin without hooks, registered for one test."""


def test_the_plugins_page_lists_every_loaded_plugin(app, login):
    get_plugins(app).register(ProbePlugin(), "probe_plugin")
    page = login("auditor").get("/admin/plugins/")
    assert page.status_code == 200
    names = [info.name for info in get_plugins(app).listing()]
    assert "probe_plugin" in names and all(name in page.text for name in names)
