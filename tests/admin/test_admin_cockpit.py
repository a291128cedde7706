"""The cockpit: to-dos per role and the KPIs, checked against figures worked out by hand."""

from datetime import date
from decimal import Decimal

from admin_helpers import book_loan, queue_application
from sqlalchemy import select

from admin.kpis import compute
from core.origination.approval import ApprovalTask
from loanfactory.database import db_session


def test_kpis_of_a_small_book(app):
    """Two loans of 10,000, nothing repaid, at the end of 2026-03-07: the first disbursed 2026-02-20 (first
    due 2026-03-20) is current, the second disbursed 2026-01-15 is 20 days past its 2026-02-15 installment
    (M1, 关注): disbursed 20,000.00, outstanding 20,000.00, delinquent 10,000.00, coincident delinquency 50%.
    One application waits for a risk officer: 1 application, none decided."""
    first, second = book_loan(app, "k1", start=date(2026, 2, 20)), book_loan(app, "k2")
    queue_application(app)
    with app.app_context():
        kpis = compute(db_session(), date(2026, 3, 7))
    assert first != second
    assert (kpis.disbursed_count, kpis.disbursed_amount) == (2, Decimal("20000.00"))
    assert kpis.outstanding == Decimal("20000.00") and kpis.delinquent_outstanding == Decimal("10000.00")
    assert kpis.delinquency_rate == Decimal("0.5000")
    assert kpis.buckets == {"M0": Decimal("10000.00"), "M1": Decimal("10000.00"), "M2": 0, "M3+": 0}
    assert kpis.five_tier["special_mention"] == Decimal("10000.00") and kpis.five_tier["normal"] == Decimal("10000.00")
    assert kpis.applications == 1 and kpis.decided == 0 and kpis.approval_rate is None


def test_a_decided_application_counts_as_manual_and_approved(app, login):
    application_id = queue_application(app)
    officer = login("risk_officer")
    with app.app_context():
        task_id = db_session().scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id))
    officer.get(f"/admin/approvals/{task_id}")
    officer.post(f"/admin/approvals/{task_id}/decide", {"decision": "approve"})
    with app.app_context():
        kpis = compute(db_session())
    assert (kpis.decided, kpis.approved, kpis.automatic) == (1, 1, 0)
    assert kpis.approval_rate == Decimal("1.0000") and kpis.automatic_share == Decimal("0.0000")
    assert kpis.average_minutes_to_decision is not None


def test_each_role_sees_its_own_queues_with_their_counts(app, login):
    queue_application(app)
    officer = login("risk_officer").get("/admin/")
    assert 'data-todo="approvals"' in officer.text and 'data-todo="product_reviews"' not in officer.text
    assert "时点逾期率" in officer.text and 'id="chart-buckets"' in officer.text
    finance = login("finance").get("/admin/")
    assert 'data-todo="waivers"' in finance.text and 'data-todo="approvals"' not in finance.text
    auditor = login("auditor").get("/admin/")
    assert "data-todo=" not in auditor.text and 'data-kpi="outstanding"' in auditor.text


def test_the_cockpit_shows_a_stalled_end_of_day_run(app, login):
    from datetime import UTC, datetime, timedelta

    from core.eod.runs import record_dispatch
    from loanfactory import clock

    with app.app_context():
        session = db_session()
        on = clock.today()
        record_dispatch(session, on, 5, datetime.now(UTC) - timedelta(hours=1))
        session.commit()
    page = login("auditor").get("/admin/").text
    assert 'data-eod="stalled"' in page and "已停滞" in page
    assert f"正在运行 {on.isoformat()}：已完成 0 / 5 个分区" in page
