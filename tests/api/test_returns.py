"""Return for supplement (退回补件) seen from the channel: the webhook, the comment, the resubmission, expiry.

A reviewer returns a queued 30,000 CNY application (the consumer sample sends it to a risk
officer) with a comment; the channel hears ``application.returned`` with the comment, reads the deadline
in the application, and resubmits with documents and corrected finances through
``POST /applications/{id}/resubmission``: the application is under review again, on a new task for the
same step. Not answering in time expires it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from api.webhooks import dispatch_webhooks
from core.applications.models import Application
from core.origination.approval import ApprovalTask
from core.origination.returns import ApplicationReturn, expire_returns, return_for_supplement
from loanfactory.database import get_db
from loanfactory.tasks.expiry import expire_applications
from tests.api.conftest import (
    APPLY,
    PAYMENT_PLUGINS,
    Channel,
    application_body,
    make_api_app,
    new_key,
    publish_sample,
    webhooks_sent,
)
from tests.api.test_whole_path import Receiver

COMMENT = "请补充近六个月银行流水和收入证明"
SUPPLEMENT = {"comment": "已上传收入证明", "documents": [
    {"type": "income_proof", "reference": "oss://partner/42/income.pdf", "description": "单位开具"},
    {"type": "bank_statement", "reference": "oss://partner/42/statement.pdf"}],
    "applicant": {"monthly_income": "30000.00", "monthly_debt_payments": "500.00", "housing": "rent"}}


def queued(app: Flask, channel: Channel) -> int:
    body = channel.post(APPLY, application_body("30000.00")).get_json()
    assert body["state"] == "under_review", body
    return int(body["id"])


def return_it(app: Flask, application_id: int, *, days: int = 7, comment: str = COMMENT) -> ApplicationReturn:
    """What the inbox does when a risk officer returns the application."""
    with app.app_context():
        session = get_db(app).session()
        task = session.scalars(select(ApprovalTask).where(ApprovalTask.application_id == application_id,
                                                          ApprovalTask.state == "open")).one()
        record = return_for_supplement(session, task, actor="risk_officer", comment=comment, resubmit_days=days)
        session.commit()
        return record


def tasks_of(app: Flask, application_id: int) -> list[ApprovalTask]:
    with app.app_context():
        return list(get_db(app).session().scalars(select(ApprovalTask).where(
            ApprovalTask.application_id == application_id).order_by(ApprovalTask.id)))


def test_a_returned_application_is_resubmitted_back_to_the_step_it_came_from(selling_app: Flask) -> None:
    receiver = Receiver()
    try:
        channel = Channel(selling_app.test_client(), new_key(selling_app))
        channel.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.returned",
                                                                          "application.under_review"]})
        application_id = queued(selling_app, channel)
        before = channel.get(f"/api/v1/applications/{application_id}").get_json()
        record = return_it(selling_app, application_id)
        returned = channel.get(f"/api/v1/applications/{application_id}").get_json()
        assert returned["state"] == "returned" and returned["decision"]["outcome"] == "returned"
        assert returned["links"]["resubmission"] == f"/api/v1/applications/{application_id}/resubmission"
        (shown,) = returned["decision"]["returns"]
        assert shown["comment"] == COMMENT and shown["state"] == "waiting" and "risk_officer" not in str(shown)
        deadline = datetime.fromisoformat(shown["resubmit_by"]) - datetime.fromisoformat(shown["returned_at"])
        assert deadline == timedelta(days=7)
        webhooks_sent(selling_app)
        with selling_app.app_context():  # the admin's writes are dispatched by Celery beat; here, at once
            dispatch_webhooks()
        heard = [e for e in receiver.events() if e["type"] == "application.returned"]
        assert heard and heard[0]["data"]["reason"] == COMMENT and heard[0]["data"]["from"] == "under_review"

        answer = channel.post(f"/api/v1/applications/{application_id}/resubmission", SUPPLEMENT)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["state"] == "under_review" and body["review_step"] == "manual_review"
        assert body["decision"]["returns"][0]["state"] == "resubmitted"
        webhooks_sent(selling_app)
        assert receiver.types()[-1] == "application.under_review"
    finally:
        receiver.close()
    first, second = tasks_of(selling_app, application_id)
    assert (first.state, second.state) == ("returned", "open") and first.id == record.task_id
    assert (second.step_index, second.role, second.four_eyes) == (first.step_index, first.role, first.four_eyes)
    sla = first.due_at - first.created_at
    assert second.due_at - second.created_at == sla
    old, new = before["decision"], body["decision"]
    assert "context" not in new  # the facts the rules saw stay inside
    with selling_app.app_context():
        saved = get_db(selling_app).session().get(ApplicationReturn, record.id)
        assert saved.supplement["documents"][1]["reference"] == "oss://partner/42/statement.pdf"
        assert saved.resubmitted_by == "channel:partner-app" and saved.reopened_task_id == second.id
    assert old["outcome"] == "manual_review"


def test_the_new_finances_replace_the_facts_the_rules_saw(selling_app: Flask) -> None:
    """DTI = (debt payments + first installment) / income: 20,000 income and 1,000 debts at application,
    30,000 and 500 after; the first installment is the same, so new DTI = (old DTI x 20,000 - 500) / 30,000."""
    channel = Channel(selling_app.test_client(), new_key(selling_app))
    application_id = queued(selling_app, channel)
    with selling_app.app_context():
        old = Decimal(get_db(selling_app).session().get(Application, application_id).decision["context"]["dti"])
    return_it(selling_app, application_id)
    assert channel.post(f"/api/v1/applications/{application_id}/resubmission", SUPPLEMENT).status_code == 200
    with selling_app.app_context():
        application = get_db(selling_app).session().get(Application, application_id)
        context = application.decision["context"]
    assert context["monthly_income"] == "30000.00"
    assert abs(Decimal(context["dti"]) - (old * 20000 - 500) / 30000) < Decimal("1e-20")


def post_resubmission(channel: Channel, application_id: int, body: Any, **kwargs: Any) -> Any:
    return channel.post(f"/api/v1/applications/{application_id}/resubmission", body, **kwargs)


def test_bad_resubmissions_are_refused_naming_every_field(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/returns.sqlite3", **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    channel = Channel(app.test_client(), new_key(app))
    application_id = queued(app, channel)

    not_returned = post_resubmission(channel, application_id, SUPPLEMENT)
    assert not_returned.status_code == 409 and not_returned.mimetype == "application/problem+json"
    return_it(app, application_id)

    empty = post_resubmission(channel, application_id, {})
    assert empty.status_code == 422 and [e["pointer"] for e in empty.get_json()["errors"]] == [""]
    bad = post_resubmission(channel, application_id, {
        "documents": [{"type": "", "extra": 1}], "applicant": {"monthly_income": "abc", "housing": "castle",
                                                               "name": "李四"}, "amount": "1.00"})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} == {
        "/amount", "/documents/0/extra", "/documents/0/type", "/documents/0/reference", "/applicant/name",
        "/applicant/monthly_income", "/applicant/monthly_debt_payments", "/applicant/housing"}
    keyless = post_resubmission(channel, application_id, SUPPLEMENT, idempotency_key=None)
    assert keyless.status_code == 422 and keyless.get_json()["errors"][0]["header"] == "Idempotency-Key"

    other = Channel(app.test_client(), new_key(app, channel="other-shop"))
    assert post_resubmission(other, application_id, SUPPLEMENT).status_code == 404

    first = post_resubmission(channel, application_id, SUPPLEMENT, idempotency_key="answer-1")
    replay = post_resubmission(channel, application_id, SUPPLEMENT, idempotency_key="answer-1")
    assert first.status_code == replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json() and len(tasks_of(app, application_id)) == 2
    again = post_resubmission(channel, application_id, SUPPLEMENT)
    assert again.status_code == 409
    get_db(app).engine.dispose()


def test_an_application_not_resubmitted_in_time_expires(selling_app: Flask) -> None:
    channel = Channel(selling_app.test_client(), new_key(selling_app))
    application_id = queued(selling_app, channel)
    record = return_it(selling_app, application_id, days=3)
    deadline = record.resubmit_by if record.resubmit_by.tzinfo else record.resubmit_by.replace(tzinfo=UTC)
    with selling_app.app_context():
        session = get_db(selling_app).session()
        assert expire_returns(session, deadline - timedelta(seconds=1)) == []
        session.commit()
        session.get(ApplicationReturn, record.id).resubmit_by = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    late = post_resubmission(channel, application_id, SUPPLEMENT)
    assert late.status_code == 409 and "time to resubmit ended" in late.get_json()["detail"]
    with selling_app.app_context():  # what Celery beat runs
        assert expire_applications() == {"offers": [], "returns": [application_id], "lines": []}
        assert expire_applications() == {"offers": [], "returns": [], "lines": []}
    body = channel.get(f"/api/v1/applications/{application_id}").get_json()
    assert body["state"] == "expired" and body["decision"]["returns"][0]["state"] == "expired"
    assert "resubmission" not in body["links"]


def test_the_operation_is_in_the_openapi_document_and_expiry_is_scheduled(tmp_path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/doc.sqlite3")
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/applications/{application_id}/resubmission"]["post"]
    assert operation["operationId"] == "resubmitApplication"
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
    schema = document["components"]["schemas"]["ResubmissionRequest"]
    assert set(schema["properties"]) == {"comment", "documents", "applicant"}
    beat = app.extensions["celery"].conf.beat_schedule["loanfactory-expire-applications"]
    assert beat["task"] == "loanfactory.expire_applications" and beat["schedule"] == 600
    get_db(app).engine.dispose()


def test_the_return_rules_the_reviewer_meets(tmp_path) -> None:
    """A comment is required and at most 1,000 characters; at least one day to answer; a decided task
    cannot be returned; after a send-back only the first reviewer may return it; an application may be
    returned again after a resubmission, each return kept in the history the channel reads."""
    from core.errors import InvalidArgumentError, WrongStateError
    from core.origination.approval import send_back

    app = make_api_app(f"sqlite:///{tmp_path}/rules.sqlite3", **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    channel = Channel(app.test_client(), new_key(app))
    application_id = queued(app, channel)
    with app.app_context():
        session = get_db(app).session()
        task = session.scalars(select(ApprovalTask).where(ApprovalTask.application_id == application_id)).one()
        for comment, days in (("", 7), ("x" * 1001, 7), (COMMENT, 0)):
            with pytest.raises(InvalidArgumentError):
                return_for_supplement(session, task, actor="risk_officer", comment=comment, resubmit_days=days)
        with pytest.raises(WrongStateError):  # one approval needed: nothing to send back
            send_back(task, actor="risk_officer2", comment="再核")
        task.four_eyes = True
        task.approvals = [{"actor": "risk_officer", "approve": True, "note": None, "at": T_APPROVED}]
        assert send_back(task, actor="risk_officer2", comment="再核") == "risk_officer"
        with pytest.raises(WrongStateError):
            return_for_supplement(session, task, actor="risk_officer2", comment=COMMENT)
        return_for_supplement(session, task, actor="risk_officer", comment=COMMENT)
        with pytest.raises(WrongStateError):
            return_for_supplement(session, task, actor="risk_officer", comment=COMMENT)
        session.commit()
    assert post_resubmission(channel, application_id, {"comment": "补充完毕"}).status_code == 200
    return_it(app, application_id, comment="第二次：请补充社保记录")
    returns = channel.get(f"/api/v1/applications/{application_id}").get_json()["decision"]["returns"]
    assert [(r["comment"], r["state"]) for r in returns] == [(COMMENT, "resubmitted"),
                                                             ("第二次：请补充社保记录", "waiting")]
    assert [t.state for t in tasks_of(app, application_id)] == ["returned", "returned"]
    get_db(app).engine.dispose()


T_APPROVED = "2026-11-23T09:00:00+00:00"
