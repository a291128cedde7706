"""Loading, disabling, validating and listing plugins; the app and the command-line face of the manager."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from importlib.metadata import version

import pytest
from books.factories import add_customer
from click.testing import CliRunner
from loanfactory_example_rules.models import SignedWebhook
from sqlalchemy import inspect, select

from core.applications.models import Application
from core.plugins.hookspecs import hookimpl
from core.plugins.manager import (
    DEFAULT_PLUGINS,
    PluginCall,
    PluginLoadError,
    PluginManager,
    PluginSettings,
    make_plugin_manager,
)
from core.plugins.types import ApplicantProfile, ApplicationFacts, LifecycleEvent, PluginNotFoundError
from core.states import APPLICATION_STATES
from loanfactory.app import create_app
from loanfactory.cli import main
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.testing import PLUGIN_TEST_TIME


class MisspelledHook:
    @hookimpl
    def score_aplication(self, context):
        return None


class WrongArgument:
    @hookimpl
    def score_application(self, context, applicant_name):
        return None


class Listener:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.heard: list[str] = []

    @hookimpl
    def lifecycle_event(self, event):
        if self.fail:
            raise RuntimeError("webhook receiver down")
        self.heard.append(event.to_state)


def test_built_ins_load_like_third_parties_and_the_example_package_comes_through_its_entry_point():
    manager = make_plugin_manager({})
    listing = {info.name: info for info in manager.listing()}
    for path in DEFAULT_PLUGINS:
        info = listing[path.rsplit(".", 1)[-1]]
        assert info.source == "builtin" and info.module == path and info.version == "1.0.0"
    example = listing["example_rules"]
    assert example.source == "entrypoint" and example.version == version("loanfactory-example-rules")
    assert example.hooks == ("lifecycle_event", "plugin_schema", "register_commands", "score_application")
    assert listing["scorecard"].hooks == ("score_application",)


def test_built_ins_answer_after_third_parties():
    manager = make_plugin_manager({})
    assert manager.implementers("score_application") == ["example_rules", "scorecard"]


def test_disabled_plugins_are_not_loaded_not_callable_and_listed_as_disabled():
    manager = make_plugin_manager({"PLUGINS_DISABLED": ["sandbox_bureau", "example_rules"]})
    assert "sandbox_bureau" not in manager.names() and "example_rules" not in manager.names()
    with pytest.raises(PluginNotFoundError, match="disabled by configuration"):
        manager.plugin("sandbox_bureau")
    disabled = [info.name for info in manager.listing() if not info.enabled]
    assert disabled == ["example_rules", "sandbox_bureau"]


def test_a_misspelled_hook_is_refused_at_start_up():
    manager = PluginManager(PluginSettings(load_entrypoints=False))
    manager.register(MisspelledHook(), "typo")
    with pytest.raises(PluginLoadError, match="score_aplication"):
        manager.check_pending()


def test_a_hookimpl_asking_for_an_argument_the_spec_lacks_is_refused():
    manager = PluginManager(PluginSettings(load_entrypoints=False))
    with pytest.raises(PluginLoadError, match="applicant_name"):
        manager.register(WrongArgument(), "wrong")


def test_a_module_that_does_not_import_is_named():
    manager = PluginManager(PluginSettings(load_entrypoints=False, extra=("plugins.no_such_plugin",)))
    with pytest.raises(PluginLoadError, match=r"plugins\.no_such_plugin"):
        manager.load(builtins=())


def test_a_third_party_that_does_not_import_stops_start_up_with_a_named_error(monkeypatch):
    manager = PluginManager(PluginSettings())

    def broken_distribution(group):
        raise ModuleNotFoundError("No module named 'acme_bureau_sdk'")

    monkeypatch.setattr(manager.pm, "load_setuptools_entrypoints", broken_distribution)
    with pytest.raises(PluginLoadError, match="acme_bureau_sdk"):
        manager.load(builtins=())


def test_timeouts_resolve_from_plugin_hook_to_plugin_to_default():
    settings = PluginSettings.from_config({"PLUGINS_TIMEOUT": 4, "PLUGINS_TIMEOUTS": {
        "sandbox_bank": 20, "sandbox_bank.payment_query": 2}})
    assert settings.timeout_for("sandbox_bank", "payment_query") == 2
    assert settings.timeout_for("sandbox_bank", "payment_debit") == 20
    assert settings.timeout_for("scorecard", "score_application") == 4


def test_a_failing_lifecycle_listener_is_recorded_and_the_others_still_hear_the_event(db_session):
    manager = PluginManager(PluginSettings(load_entrypoints=False))
    good, bad = Listener(fail=False), Listener(fail=True)
    manager.register(bad, "audit_sink")
    manager.register(good, "webhooks")
    event = LifecycleEvent(entity="loan", entity_id=3, from_state="active", to_state="settled",
                           at=PLUGIN_TEST_TIME, actor="system")
    answers = manager.broadcast("lifecycle_event", session=db_session, subject="loan:3", event=event)
    assert answers == {"webhooks": None} and good.heard == ["settled"]
    calls = {c.plugin: c for c in db_session.scalars(select(PluginCall))}
    assert calls["audit_sink"].outcome == "error" and "webhook receiver down" in calls["audit_sink"].error
    assert calls["webhooks"].outcome == "ok" and calls["webhooks"].subject == "loan:3"


def test_the_json_listing_names_families_and_filters_by_hook():
    body = make_plugin_manager({}).as_json("bureau_query")
    assert [p["name"] for p in body["plugins"]] == ["sandbox_bureau"]
    assert body["plugins"][0]["hooks"] == ["bureau_query", "bureau_report_account", "plugin_schema"]
    assert body["families"]["bureau"] == ["bureau_query", "bureau_report_account"]
    json.dumps(body)


@pytest.fixture
def app(tmp_path):
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3", "PLUGINS_DISABLED": ["example_rules"],
                       "PLUGIN_CONFIG": {"sandbox_bureau": {"latency_seconds": 0}}})


def test_the_app_factory_builds_the_manager_from_its_config_and_creates_plugin_tables(app):
    manager = get_plugins(app)
    assert "example_rules" in manager.settings.disabled and "scorecard" in manager.names()
    tables = set(inspect(get_db(app).engine).get_table_names())
    assert {"plugin_calls", "sandbox_bureau_submissions", "sandbox_notification_outbox"} <= tables


def test_a_call_without_a_session_in_the_app_is_recorded_in_a_session_of_its_own(app):
    facts = ApplicationFacts(product_code="CASH", amount=Decimal(3000), term_months=6)
    applicant = ApplicantProfile(age=41, monthly_income=Decimal(9000))
    score = get_plugins(app).call("scorecard", "score_application", subject="cli:score", application=facts,
                                  applicant=applicant, bureau_report=None)
    with get_db(app).session() as session:
        call = session.scalars(select(PluginCall)).one()
    assert (call.plugin, call.hook, call.outcome, call.subject) == ("scorecard", "score_application", "ok", "cli:score")
    assert score.model_version == "german-credit-optbinning-1"


def test_loanfactory_plugins_lists_scoring_plugins_as_json(tmp_path):
    result = CliRunner().invoke(main, ["plugins", "--hook", "score_application", "--json"],
                                env={"DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"})
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.output)] == ["example_rules", "scorecard"]


def test_loanfactory_plugins_prints_each_plugin_with_its_hooks(tmp_path):
    result = CliRunner().invoke(main, ["plugins"], env={"DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"})
    assert result.exit_code == 0, result.output
    assert "sandbox_bureau 1.0.0  [builtin] plugins.sandbox_bureau" in result.output
    assert "    bureau_report_account" in result.output


def test_loanfactory_plugins_refuses_an_unknown_hook_naming_the_option(tmp_path):
    result = CliRunner().invoke(main, ["plugins", "--hook", "score"])
    assert result.exit_code == 2 and "--hook" in result.output and "score_application" in result.output


class Thing:
    """Any entity the state machines move: an id and a state."""

    def __init__(self, entity_id: int) -> None:
        self.id = entity_id
        self.state: str | None = None


def lifecycle_app(tmp_path):
    outbox = tmp_path / "webhooks.jsonl"
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3",
                      "PLUGIN_CONFIG": {"example_rules": {"webhook_outbox": str(outbox), "webhook_secret": "s3"}}})
    return app, outbox


def test_state_changes_reach_lifecycle_listeners_when_the_change_commits(tmp_path):
    app, outbox = lifecycle_app(tmp_path)
    with app.app_context():
        session = get_db(app).session()
        application = Thing(41)
        APPLICATION_STATES.start(session, application, actor="channel:partner")
        APPLICATION_STATES.transition(session, application, "submitted", actor="channel:partner")
        session.flush()
        assert not outbox.exists()  # nothing is announced before the commit
        session.commit()
        hooks = session.scalars(select(PluginCall.subject).where(PluginCall.hook == "lifecycle_event")).all()
        kept = session.scalars(select(SignedWebhook.to_state).order_by(SignedWebhook.id)).all()
    deliveries = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    bodies = [json.loads(d["body"]) for d in deliveries]
    assert [(b["entity"], b["id"], b["from"], b["to"]) for b in bodies] == [
        ("application", 41, None, "draft"), ("application", 41, "draft", "submitted")]
    signature = hmac.new(b"s3", deliveries[1]["body"].encode("utf-8"), hashlib.sha256).hexdigest()
    assert deliveries[1]["headers"]["X-Signature"] == signature
    assert hooks == ["application:41", "application:41"]
    assert kept == ["draft", "submitted"]  # in the plugin's own table too, committed with the change


def test_state_changes_written_with_core_statements_reach_lifecycle_listeners_when_they_commit(tmp_path):
    app, outbox = lifecycle_app(tmp_path)
    with app.app_context():
        session = get_db(app).session()
        customer = add_customer(session)
        application = Application(customer_id=customer.id, channel="partner", product_code="cash_12m",
                                  product_version_id=3, amount=Decimal("20000.00"), term=12,
                                  method="equal_installment")
        APPLICATION_STATES.start_written(session, application, actor="channel:partner",
                                         then=(("submitted", "channel:partner"),))
        APPLICATION_STATES.transition_written(session, application, "under_review", actor="system:origination")
        assert not outbox.exists()  # nothing is announced before the commit
        session.commit()
        application_id = application.id
        rolled_back = Application(customer_id=customer.id, channel="partner", product_code="cash_12m",
                                  product_version_id=3, amount=Decimal("1000.00"), term=12, method="equal_installment")
        APPLICATION_STATES.start_written(session, rolled_back, actor="channel:partner")
        session.rollback()
        session.commit()
    bodies = [json.loads(json.loads(line)["body"]) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [(b["from"], b["to"]) for b in bodies] == [(None, "draft"), ("draft", "submitted"),
                                                      ("submitted", "under_review")]
    assert {b["id"] for b in bodies} == {application_id}


def test_a_rolled_back_state_change_is_never_announced(tmp_path):
    app, outbox = lifecycle_app(tmp_path)
    with app.app_context():
        session = get_db(app).session()
        APPLICATION_STATES.start(session, Thing(42), actor="channel:partner")
        session.flush()
        session.rollback()
        session.commit()
    assert not outbox.exists()


def test_loanfactory_plugins_calls_sums_the_recorded_calls_per_plugin_and_hook(tmp_path):
    url = f"sqlite:///{tmp_path}/calls.sqlite3"
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = get_db(app).session()
        for outcome, duration in (("ok", 12.0), ("ok", 30.0), ("timeout", 5000.0)):
            session.add(PluginCall(plugin="sandbox_bureau", hook="bureau_query", subject=None, outcome=outcome,
                                   started_at=PLUGIN_TEST_TIME, duration_ms=duration, error=None))
        session.add(PluginCall(plugin="scorecard", hook="score_application", subject=None, outcome="error",
                               started_at=PLUGIN_TEST_TIME.replace(year=2025), duration_ms=1.0, error="boom"))
        session.commit()
    result = CliRunner().invoke(main, ["plugins", "--calls", "--since", "2026-01-01", "--json"],
                                env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"plugin": "sandbox_bureau", "hook": "bureau_query", "calls": 3, "ok": 2,
                                          "refused": 0, "error": 0, "timeout": 1, "mean_ms": 1680.7,
                                          "max_ms": 5000.0}]
    table = CliRunner().invoke(main, ["plugins", "--calls"], env={"DATABASE_URL": url}).output.splitlines()
    assert table[0].split() == ["plugin", "hook", "calls", "ok", "refused", "error", "timeout", "mean_ms", "max_ms"]
    assert table[2].split() == ["scorecard", "score_application", "1", "0", "0", "1", "0", "1.0", "1.0"]
