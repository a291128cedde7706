"""The reports page lists what the reporting plugins offer and hands their files over, audited."""

import io
import zipfile

from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from loanfactory.database import db_session


def test_finance_generates_the_monthly_statistics_and_the_generation_is_audited(app, login, loan_id):
    finance = login("finance")
    page = finance.get("/admin/reports/")
    assert 'data-report="monthly_statistics"' in page.text
    response = finance.post("/admin/reports/generate", {"plugin": "reports", "report_type": "monthly_statistics",
                                                        "period_start": "2026-01-01", "period_end": "2026-01-31"})
    assert response.status_code == 200, response.text[:500]
    assert "attachment" in response.headers["Content-Disposition"]
    if response.mimetype == "application/zip":
        names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    else:
        names = [response.headers["Content-Disposition"].split("filename=")[-1]]
    with app.app_context():
        event = db_session().scalar(select(AuditEvent).where(AuditEvent.action == "report.generate"))
    assert event.actor == "finance" and event.after["period_start"] == "2026-01-01"
    assert sorted(f["name"] for f in event.after["files"]) == sorted(n.strip('"') for n in names)
    assert all(len(f["sha256"]) == 64 for f in event.after["files"])


def test_a_period_ending_before_it_starts_is_refused(app, login):
    finance = login("finance")
    finance.get("/admin/reports/")
    response = finance.post("/admin/reports/generate", {"plugin": "reports", "report_type": "five_tier_migration",
                                                        "period_start": "2026-02-01", "period_end": "2026-01-01"},
                            follow_redirects=True)
    assert "period_end" in response.text
    with app.app_context():
        assert db_session().scalar(select(AuditEvent).where(AuditEvent.action == "report.generate")) is None
