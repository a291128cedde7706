"""Faults contained: a scorer that raises, a bureau that times out. No half-written data, the application
in manual review with the error on it, and every call recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from core.applications.models import Application
from core.origination.catalog import Offer
from core.origination.pipeline import submit_application
from core.origination.requests import parse_application
from core.plugins.hookspecs import hookimpl
from core.plugins.manager import PluginCall, PluginManager, PluginSettings
from core.products.validate import read_document
from plugins.sandbox_bureau.models import SandboxBureauQuery
from plugins.testing import PLUGIN_TEST_TIME

SAMPLES = "product_configs/consumer_installment.json"
NOW = datetime(2026, 1, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def id_number(sequence: int) -> str:
    first = f"11010119900101{sequence:03d}"
    return first + ric.calc_check_digit(first + "0")


def application_data(sequence: int = 5) -> dict:
    consent = {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "c-1", "purpose": "loan approval"}
    return {"amount": "12000.00", "term": 6, "method": "equal_installment", "purpose": "used_car",
            "applicant": {"name": "张三", "id_number": id_number(sequence), "phone": "13812345678",
                          "monthly_income": "20000.00", "monthly_debt_payments": "1000.00", "employment_years": 5,
                          "housing": "own", "occupation": "skilled", "dependants": 1,
                          "bank_account": {"bank_code": "ICBC", "account_number": "6222020200112233445",
                                           "holder_name": "张三"}},
            "consents": {"credit_bureau_query": consent,
                         "personal_information": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "c-2"}}}


class ExplodingScorer:
    @hookimpl
    def score_application(self, context, application):
        with context.db() as session:
            session.add(PluginCall(plugin="fake", hook="half-written", started_at=context.now, duration_ms=0,
                                   outcome="ok", error=None))
            session.flush()
        raise ZeroDivisionError("scorecard weights are empty")


def manager(config: dict | None = None, timeout: float = 5) -> PluginManager:
    plugins = PluginManager(PluginSettings(load_entrypoints=False, default_timeout=timeout,
                                           plugin_config=config or {}), clock=lambda: PLUGIN_TEST_TIME)
    plugins.load(("plugins.scorecard", "plugins.sandbox_bureau"))
    return plugins


def submit(session, plugins: PluginManager, document: dict, sequence: int = 5) -> Application:
    offer = Offer.of(1, document)
    request = parse_application(offer, application_data(sequence), datetime(2026, 1, 15, tzinfo=UTC))
    return submit_application(session, plugins, offer, request, channel="partner-app", actor="channel:partner",
                              now=NOW)


@pytest.fixture
def consumer() -> dict:
    return read_document(SAMPLES)


def test_a_bureau_that_times_out_sends_the_application_to_manual_review_with_nothing_half_written(
        db_session, consumer):
    plugins = manager({"sandbox_bureau": {"latency_seconds": 3}}, timeout=0.3)
    application = submit(db_session, plugins, consumer)
    db_session.commit()
    assert (application.state, application.review_step) == ("under_review", "manual_review")
    assert application.score is None
    (error,) = application.decision["errors"]
    assert error["stage"] == "bureau" and "no answer within 0.3 s" in error["error"]
    assert db_session.scalar(select(func.count()).select_from(SandboxBureauQuery)) == 0
    call = db_session.scalars(select(PluginCall)).one()
    assert (call.plugin, call.hook, call.outcome) == ("sandbox_bureau", "bureau_query", "timeout")
    assert call.subject == f"application:{application.id}"


def test_a_scorer_that_raises_leaves_no_score_and_no_half_written_rows(db_session, consumer):
    plugins = manager()
    plugins.register(ExplodingScorer(), "exploding")
    consumer["plugins"]["scoring"] = "exploding"
    application = submit(db_session, plugins, consumer)
    db_session.commit()
    assert (application.state, application.review_step) == ("under_review", "manual_review")
    assert application.score is None and application.grade is None
    (error,) = application.decision["errors"]
    assert error["stage"] == "scoring" and "ZeroDivisionError: scorecard weights are empty" in error["error"]
    calls = db_session.scalars(select(PluginCall).order_by(PluginCall.id)).all()
    assert [(c.plugin, c.hook, c.outcome) for c in calls] == [
        ("sandbox_bureau", "bureau_query", "ok"), ("exploding", "score_application", "error")]
    assert db_session.scalar(select(func.count()).select_from(SandboxBureauQuery)) == 1


def test_with_healthy_plugins_the_same_application_gets_a_real_score(db_session, consumer):
    application = submit(db_session, manager(), consumer)
    assert application.score is not None and 300 < application.score < 700
    assert application.reason_codes and application.decision["model_version"] == "german-credit-optbinning-1"
