"""The automatic-debits screen: the day's instructions with the success rates, one loan's attempts and message
log (the account masked), and the manual retry: operations only, with CSRF, audited, refused while an attempt
is open."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from admin_helpers import book_loan
from sqlalchemy import select

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.debits.models import DebitAuthorisation, DebitInstruction
from core.loans.models import Loan
from loanfactory.database import db_session

ACCOUNT = "6222020200112233445"


def _authorised(app) -> int:
    loan_id = book_loan(app)
    with app.app_context():
        db = db_session()
        loan = db.get(Loan, loan_id)
        application = Application(customer_id=loan.customer_id, channel="partner", product_code=loan.product_code,
                                  product_version_id=1, amount=loan.principal, term=12, method=loan.method,
                                  state="disbursed")
        db.add(application)
        db.flush()
        loan.application_id = application.id
        db.add(DebitAuthorisation(application_id=application.id, bank_code="ICBC", account_number=ACCOUNT,
                                  holder_name="张三丰", account_tail="3445", consent_text="授权扣款",
                                  contract_sha256="0" * 64, granted_at=datetime.now(UTC), channel="api",
                                  granted_by="channel:partner"))
        db.commit()
    return loan_id


def _instructions(app, loan_id: int) -> list[DebitInstruction]:
    with app.app_context():
        return list(db_session().scalars(select(DebitInstruction).where(DebitInstruction.loan_id == loan_id)))


def test_operations_retries_a_debit_once_audited_and_sees_it_on_the_day(app, login):
    loan_id = _authorised(app)
    operations = login("operations")
    page = operations.get(f"/admin/debits/loan/{loan_id}")
    assert page.status_code == 200 and "****3445" in page.text and ACCOUNT not in page.text
    assert "消息记录" in page.text and 'id="form-retry"' in page.text
    assert operations.client.post(f"/admin/debits/loan/{loan_id}/retry", data={"period": "1"}).status_code == 400
    done = operations.post(f"/admin/debits/loan/{loan_id}/retry", data={"period": "1", "comment": "客户来电"})
    assert done.status_code == 302
    (attempt,) = _instructions(app, loan_id)
    assert (attempt.period, attempt.attempt, attempt.state, attempt.request_id) == (
        1, 1, "created", f"LF-DEBIT-{loan_id}-1-1")
    assert attempt.amount > Decimal(0)
    operations.get(f"/admin/debits/loan/{loan_id}")
    again = operations.post(f"/admin/debits/loan/{loan_id}/retry", data={"period": "1"}, follow_redirects=True)
    assert "still waiting for the bank" in again.text and len(_instructions(app, loan_id)) == 1
    with app.app_context():
        (event,) = db_session().scalars(select(AuditEvent).where(AuditEvent.action == "debit.manual_retry")).all()
        assert event.actor == "operations" and event.after["attempt"] == 1 and event.comment == "客户来电"
    day = operations.get(f"/admin/debits/?day={attempt.scheduled_on.isoformat()}")
    assert day.status_code == 200 and "代扣成功率" in day.text and f"#{loan_id}" in day.text


def test_a_role_without_the_repay_permission_cannot_retry(app, login):
    loan_id = _authorised(app)
    auditor = login("auditor")
    assert auditor.get(f"/admin/debits/loan/{loan_id}").status_code == 200
    assert auditor.post(f"/admin/debits/loan/{loan_id}/retry", data={"period": "1"}).status_code == 403
    assert _instructions(app, loan_id) == []


def test_the_cockpit_shows_the_days_debit_success_rates(app, login):
    loan_id = _authorised(app)
    with app.app_context():
        db = db_session()
        for attempt, state in ((1, "failed"), (2, "succeeded")):
            db.add(DebitInstruction(loan_id=loan_id, period=1, attempt=attempt, request_id=f"R-{attempt}",
                                    plugin="sandbox_bank", product_version_id=1, scheduled_on=clock_today(app),
                                    amount=Decimal("100.00"), collected=Decimal("100.00") if attempt == 2 else 0,
                                    state=state, failure_code="", failure_message="", channel_reference=""))
        db.commit()
    page = login("operations").get("/admin/")
    assert page.status_code == 200
    rate = page.text.split('data-kpi="debit_success_rate"')[1].split("</a>")[0]
    first = page.text.split('data-kpi="first_attempt_success"')[1].split("</a>")[0]
    assert "代扣成功率" in rate and "50.00%" in rate  # one of two answered attempts collected
    assert "0.00%" in first  # the only first attempt failed


def clock_today(app):
    from admin.kpis import today

    return today()
