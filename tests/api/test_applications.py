"""Applying for a loan: the decision pipeline through the API, bad input, manual review, plugin failure."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from core.applications.models import Application
from core.channels.idempotency import IdempotencyRecord
from core.customers.parties import Customer
from core.origination import pipeline
from core.origination.approval import ApprovalTask, open_tasks
from core.origination.approved import offer_of
from core.origination.booking import PayoutAccount
from core.origination.bureau_reports import BureauReportRecord, bureau_report_for
from core.origination.expiry import expire_offers
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version
from core.plugins.hookspecs import hookimpl
from core.plugins.manager import PluginCall
from core.states import StateTransition
from loanfactory.cli import main
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bureau.generator import generate_report
from tests.api.conftest import APPLY, GOOD_ID, Channel, application_body, id_number, publish_sample, sample


def rows(app: Flask, model: type) -> int:
    query = select(func.count()).select_from(model)
    if model is StateTransition:
        query = query.where(StateTransition.entity_type == "application")
    with app.app_context():
        return int(get_db(app).session().scalar(query) or 0)


def test_a_good_small_application_is_approved_automatically_and_priced_by_risk_band(seller: Channel) -> None:
    response = seller.post(APPLY, application_body("12000.00", 6))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "approved" and body["review_step"] is None
    assert body["decision"]["outcome"] == "approved"
    assert body["score"] >= 470 and body["grade"]
    assert body["reason_codes"], "the scorecard explains the points it withheld"
    # the sample's risk bands follow the scorecard's grades: 551-572 (grade B) borrow at 11%
    assert (body["score"], body["grade"]) == (570, "B")
    assert body["decision"]["annual_rate"] == "0.1100"
    assert body["decision"]["first_installment"] == "2088.65"  # numpy_financial.pmt(0.11 / 12, 6, -12000) + 24 fee
    assert body["decision"]["approved_amount"] == "12000.00"
    assert response.headers["Location"] == f"/api/v1/applications/{body['id']}"
    status = seller.get(f"/api/v1/applications/{body['id']}").get_json()
    assert status["state"] == "approved" and status["links"]["acceptance"]


def test_every_state_change_is_recorded_with_its_actor(selling_app: Flask, seller: Channel) -> None:
    app_id = seller.post(APPLY, application_body()).get_json()["id"]
    with selling_app.app_context():
        moves = get_db(selling_app).session().scalars(select(StateTransition).where(
            StateTransition.entity_type == "application", StateTransition.entity_id == app_id)
            .order_by(StateTransition.id)).all()
        assert [(m.from_state, m.to_state) for m in moves] == [
            (None, "draft"), ("draft", "submitted"), ("submitted", "under_review"), ("under_review", "approved")]
        assert moves[0].actor == "channel:partner-app" and moves[-1].actor == "system:origination"


def test_a_returning_applicant_is_one_customer_with_the_phone_and_income_of_the_newest_application(
        selling_app: Flask, seller: Channel) -> None:
    first = seller.post(APPLY, application_body()).get_json()
    second = seller.post(APPLY, application_body(phone="13987654321", monthly_income="30000.00")).get_json()
    with selling_app.app_context():
        session = get_db(selling_app).session()
        (customer,) = session.scalars(select(Customer)).all()
        assert (customer.phone, customer.monthly_income) == ("13987654321", Decimal("30000.0000"))
        assert {session.get(Application, a["id"]).customer_id for a in (first, second)} == {customer.id}


def test_a_first_application_writes_its_customer_and_every_row_of_its_decision(selling_app: Flask,
                                                                                 seller: Channel) -> None:
    body = seller.post(APPLY, application_body()).get_json()
    assert body["state"] == "approved"
    subject = f"application:{body['id']}"
    with selling_app.app_context():
        session = get_db(selling_app).session()
        (customer,) = session.scalars(select(Customer)).all()
        assert (customer.name, customer.id_number, customer.phone) == ("张三", GOOD_ID, "13812345678")
        assert customer.monthly_income == Decimal("20000.0000") and customer.region
        application = session.get(Application, body["id"])
        assert application.customer_id == customer.id and application.state == "approved"
        account = session.get(PayoutAccount, body["id"])
        assert (account.bank_code, account.account_number, account.holder_name) == (
            "ICBC", "6222020200112233445", "张三")
        assert bureau_report_for(session, body["id"]) is not None
        assert rows(selling_app, StateTransition) == 4
        calls = session.scalars(select(PluginCall).where(
            PluginCall.subject == subject, PluginCall.hook.in_(("bureau_query", "score_application")))).all()
        assert sorted((c.hook, c.outcome) for c in calls) == [("bureau_query", "ok"), ("score_application", "ok")]


def test_an_application_that_fails_after_its_rows_are_inserted_leaves_nothing(
        selling_app: Flask, seller: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_pricing(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("pricing failed")

    monkeypatch.setattr(pipeline, "approve", broken_pricing)
    with pytest.raises(RuntimeError, match="pricing failed"):
        seller.post(APPLY, application_body(), idempotency_key="fails-late")
    for model in (Customer, Application, StateTransition, PayoutAccount, BureauReportRecord, PluginCall,
                  IdempotencyRecord):
        assert rows(selling_app, model) == 0, model.__name__
    monkeypatch.undo()
    assert seller.post(APPLY, application_body(), idempotency_key="fails-late").get_json()["state"] == "approved"


def test_a_failed_eligibility_rule_rejects_with_its_code_before_any_bureau_query(seller: Channel) -> None:
    body = seller.post(APPLY, application_body(monthly_income="2500.00", monthly_debt_payments="0")).get_json()
    assert body["state"] == "rejected"
    assert "INCOME_TOO_LOW" in body["decision"]["reasons"]
    assert body["score"] is None and "bureau" not in body["decision"]


def test_a_region_the_product_denies_is_rejected(seller: Channel) -> None:
    xinjiang = id_number("19900101", 7, region="650102")
    body = seller.post(APPLY, application_body(id_no=xinjiang)).get_json()
    assert body["state"] == "rejected" and body["decision"]["reasons"] == ["REGION_NOT_SERVED"]


def test_a_larger_amount_waits_for_a_credit_officer_then_approves(selling_app: Flask, seller: Channel) -> None:
    body = seller.post(APPLY, application_body("30000.00", 6)).get_json()
    assert body["state"] == "under_review" and body["review_step"] == "manual_review"
    with selling_app.app_context():
        session = get_db(selling_app).session()
        (task,) = open_tasks(session, "risk_officer")
        assert task.application_id == body["id"] and not task.four_eyes
        offer = offer_of_version(session, body["product_version"])
        decide_task(session, task, offer, actor="officer-li", approve_it=True, note="income verified")
        session.commit()
    assert seller.get(f"/api/v1/applications/{body['id']}").get_json()["state"] == "approved"


def test_four_eyes_need_two_different_people(selling_app: Flask, seller: Channel) -> None:
    body = seller.post(APPLY, application_body("45000.00", 6, monthly_income="40000.00")).get_json()
    assert body["state"] == "under_review"
    with selling_app.app_context():
        session = get_db(selling_app).session()
        (task,) = open_tasks(session)
        assert task.four_eyes
        offer = offer_of_version(session, body["product_version"])
        decide_task(session, task, offer, actor="officer-li", approve_it=True)
        session.commit()
        assert session.get(Application, body["id"]).state == "under_review"
        with pytest.raises(Exception, match="four eyes"):
            decide_task(session, task, offer, actor="officer-li", approve_it=True)
        session.rollback()
        task = session.get(ApprovalTask, task.id)
        decide_task(session, task, offer, actor="manager-wang", approve_it=True)
        session.commit()
        assert session.get(Application, body["id"]).state == "approved"


class BrokenScorer:
    """A scoring plugin whose model server is down."""

    @hookimpl
    def score_application(self, context: Any, application: Any, applicant: Any, bureau_report: Any) -> Any:
        raise ConnectionError("model server unreachable")


def test_a_failing_scoring_plugin_sends_the_application_to_manual_review_with_the_error(
        selling_app: Flask, seller: Channel) -> None:
    document = sample("consumer_installment")
    document["code"] = "CONSUMER_BROKEN"
    document["plugins"]["scoring"] = "broken_scorer"
    get_plugins(selling_app).register(BrokenScorer(), "broken_scorer")
    publish_sample(selling_app, "consumer_installment", document)
    body = seller.post("/api/v1/products/CONSUMER_BROKEN/applications", application_body()).get_json()
    assert body["state"] == "under_review" and body["review_step"] == "manual_review"
    assert body["score"] is None
    (error,) = body["decision"]["errors"]
    assert error["stage"] == "scoring" and "model server unreachable" in error["error"]
    with selling_app.app_context():
        (task,) = open_tasks(get_db(selling_app).session())
        assert task.step_index == -1 and "model server unreachable" in (task.reason or "")


def test_a_replayed_application_returns_the_first_decision_and_writes_nothing_more(selling_app: Flask,
                                                                                   seller: Channel) -> None:
    first = seller.post(APPLY, application_body(), idempotency_key="app-42")
    again = seller.post(APPLY, application_body(), idempotency_key="app-42")
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert rows(selling_app, Application) == 1
    changed = seller.post(APPLY, application_body("13000.00"), idempotency_key="app-42")
    assert changed.status_code == 409
    assert rows(selling_app, Application) == 1


def test_a_channels_external_id_names_one_application(selling_app: Flask, seller: Channel) -> None:
    body = application_body() | {"external_id": "order-2026-0001"}
    assert seller.post(APPLY, body).status_code == 201
    again = seller.post(APPLY, body)
    assert again.status_code == 422 and again.get_json()["errors"][0]["pointer"] == "/external_id"
    assert rows(selling_app, Application) == 1


def _set(document: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        document = document[part]
    if value is DELETE:
        del document[last]
    else:
        document[last] = value


DELETE = object()

#: (pointer, bad value): every field of the application wrong in turn
BAD_FIELDS = [
    ("/amount", "abc"), ("/amount", "0"), ("/amount", "1050.00"), ("/amount", "90000.00"), ("/amount", 12.5),
    ("/amount", DELETE), ("/term", 7), ("/term", "6"), ("/term", DELETE), ("/method", "bullet"),
    ("/method", DELETE), ("/purpose", "x" * 41), ("/external_id", 12), ("/colour", "red"),
    ("/applicant/name", ""), ("/applicant/name", DELETE), ("/applicant/id_number", "110101199001010051"),
    ("/applicant/id_number", 110101), ("/applicant/id_number", DELETE), ("/applicant/phone", "12345"),
    ("/applicant/phone", DELETE), ("/applicant/monthly_income", "-1"), ("/applicant/monthly_income", DELETE),
    ("/applicant/monthly_debt_payments", "lots"), ("/applicant/monthly_debt_payments", DELETE),
    ("/applicant/employment_years", -3), ("/applicant/housing", "castle"), ("/applicant/occupation", "pirate"),
    ("/applicant/dependants", 99), ("/applicant/nickname", "Sanzi"), ("/applicant/bank_account", DELETE),
    ("/applicant/bank_account/account_number", "12"), ("/applicant/bank_account/bank_code", "icbc bank"),
    ("/applicant/bank_account/holder_name", DELETE), ("/applicant", "张三"), ("/consents", DELETE),
    ("/consents/credit_bureau_query", DELETE), ("/consents/personal_information/granted_at", "yesterday"),
    ("/consents/personal_information/reference", DELETE), ("/collateral", {"type": "vehicle",
                                                                          "appraised_value": "1"}),
]


def test_each_field_wrong_in_turn_is_a_422_naming_it_and_nothing_is_written(selling_app: Flask,
                                                                            seller: Channel) -> None:
    wrong = []
    for pointer, value in BAD_FIELDS:
        body = application_body()
        _set(body, pointer, value)
        response = seller.post(APPLY, body)
        named = [e.get("pointer") for e in (response.get_json() or {}).get("errors", [])]
        if response.status_code != 422 or response.mimetype != "application/problem+json" or named != [pointer]:
            wrong.append((pointer, value, response.status_code, named))
    assert wrong == []
    for model in (Application, Customer, StateTransition):
        assert rows(selling_app, model) == 0


def test_the_bureau_report_is_kept_whole_and_encrypted(selling_app: Flask, seller: Channel) -> None:
    """The reviewer later sees the very report the scorecard saw; at rest it is ciphertext."""
    body = application_body("12000.00", 6)
    app_id = seller.post(APPLY, body).get_json()["id"]
    with selling_app.app_context():
        session = get_db(selling_app).session()
        kept = bureau_report_for(session, app_id)
        assert kept is not None
        fresh = generate_report(body["applicant"]["id_number"], kept.as_of, bureau=kept.bureau)
        assert kept.accounts == fresh.accounts and kept.court_records == fresh.court_records
        assert kept.blacklist == fresh.blacklist and kept.report_id == fresh.report_id
        raw = session.connection().exec_driver_sql("SELECT body FROM bureau_reports").scalar_one()
        assert kept.report_id not in raw and "lender" not in raw
        assert session.scalar(select(func.count()).select_from(BureauReportRecord)) == 1


def test_an_offer_not_accepted_in_time_expires_and_an_accepted_one_does_not(selling_app: Flask,
                                                                            seller: Channel) -> None:
    lapsing = seller.post(APPLY, application_body("12000.00", 6)).get_json()
    kept = seller.post(APPLY, application_body("12000.00", 6, id_no=id_number("19880202", 7))).get_json()
    assert lapsing["state"] == kept["state"] == "approved"
    assert seller.post(f"/api/v1/applications/{kept['id']}/acceptance").status_code == 200
    with selling_app.app_context():
        session = get_db(selling_app).session()
        expires = offer_of(session.get(Application, lapsing["id"])).expires_at
        assert expire_offers(session, expires) == [], "an offer is good until its expiry instant"
        assert expire_offers(session, expires + timedelta(seconds=1)) == [lapsing["id"]]
        session.commit()
        move = session.scalars(select(StateTransition).where(StateTransition.entity_id == lapsing["id"])
                               .order_by(StateTransition.id.desc())).first()
        assert (move.from_state, move.to_state, move.actor) == ("approved", "expired", "system:expiry")
    assert seller.get(f"/api/v1/applications/{lapsing['id']}").get_json()["state"] == "expired"
    assert seller.get(f"/api/v1/applications/{kept['id']}").get_json()["state"] == "accepted"
    refused = seller.post(f"/api/v1/applications/{lapsing['id']}/acceptance")
    assert refused.status_code == 409, refused.get_json()


def test_the_expiry_command_runs_the_sweep(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/expiry.sqlite3")
    result = CliRunner().invoke(main, ["applications", "expire", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"offers": [], "returns": [], "lines": []}
    plain = CliRunner().invoke(main, ["applications", "expire"])
    assert plain.output.splitlines() == ["offers not accepted: 0", "returns not resubmitted: 0",
                                         "credit lines past their last day: 0"]


def test_an_existing_id_number_under_another_name_is_refused_at_application(db_app, db_channel) -> None:
    """The contract is signed in the name on file for the ID number: a second application under the same ID
    number and another name is refused at once (422 naming /applicant/name), not approved to fail at signing,
    and nothing of it is written."""
    from sqlalchemy import func, select

    from core.applications.models import Application
    from loanfactory.database import get_db
    from tests.api.conftest import APPLY, application_body, publish_sample

    publish_sample(db_app, "consumer_installment")
    assert db_channel.post(APPLY, application_body()).status_code == 201
    other = db_channel.post(APPLY, application_body(name="李四"))
    assert other.status_code == 422
    assert [e["pointer"] for e in other.get_json()["errors"]] == ["/applicant/name"]
    assert db_channel.post(APPLY, application_body(phone="13900000000")).status_code == 201  # same person
    with db_app.app_context():
        assert get_db(db_app).session().scalar(select(func.count()).select_from(Application)) == 2
