"""What operators watch: liveness and readiness (each dependency failing in turn), the Prometheus scrape
parsed, and JSON log lines carrying the request id from the API call into the Celery task it sent."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from core.businessday.closes import FINALIZE, EodStepRun
from core.channels.targets import TargetPolicy
from core.channels.webhooks import WebhookEvent, subscribe
from core.db.base import make_engine
from core.eod.runs import record_dispatch
from loanfactory import clock
from loanfactory.app import create_app
from loanfactory.database import get_db
from loanfactory.migrate import upgrade
from loanfactory.observability import logs
from tests.api.conftest import APPLY, PAYMENT_PLUGINS, Channel, application_body, new_key, publish_sample
from tests.conftest import require_service
from tests.eod.test_celery import redis_url


def _app(tmp_path, name: str = "ops", **config):
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/{name}.sqlite3", "TESTING": True, **config})


def _ready(app) -> tuple[int, dict]:
    answer = app.test_client().get("/readyz")
    return answer.status_code, answer.get_json()


def test_liveness_answers_and_a_healthy_deployment_is_ready(tmp_path) -> None:
    app = _app(tmp_path)
    assert app.test_client().get("/healthz").get_json() == {"status": "alive"}
    status, body = _ready(app)
    assert status == 200 and body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "migrations", "eod"}
    assert all(check["ok"] for check in body["checks"].values())


def test_an_unreachable_database_makes_the_app_not_ready_but_still_alive(tmp_path) -> None:
    app = _app(tmp_path)
    get_db(app).engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing_listens_here")
    status, body = _ready(app)
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False and "OperationalError" in body["checks"]["database"]["detail"]
    assert app.test_client().get("/healthz").status_code == 200


def test_a_broker_that_does_not_answer_makes_the_app_not_ready(tmp_path) -> None:
    app = _app(tmp_path, CELERY={"broker_url": "redis://127.0.0.1:1/0", "task_always_eager": False})
    status, body = _ready(app)
    assert status == 503 and body["checks"]["broker"]["ok"] is False
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["broker"]


@pytest.mark.redis
def test_a_reachable_redis_broker_is_ready(tmp_path) -> None:
    broker = redis_url()
    require_service(broker is not None, "Redis is not reachable at 127.0.0.1:6379")
    app = _app(tmp_path, CELERY={"broker_url": broker, "task_always_eager": False})
    status, body = _ready(app)
    assert status == 200 and body["checks"]["broker"]["detail"].startswith("redis://")


def test_a_database_behind_the_migration_heads_is_not_ready(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/migrated.sqlite3"
    upgrade(url, "heads")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTO_CREATE_TABLES": False})
    status, body = _ready(app)
    assert status == 200 and body["checks"]["migrations"]["ok"], body
    with get_db(app).engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0013' WHERE version_num LIKE '00%'"))
    status, body = _ready(app)
    assert status == 503 and body["checks"]["migrations"]["ok"] is False
    assert "0013" in body["checks"]["migrations"]["detail"] and "loanfactory db upgrade" in \
        body["checks"]["migrations"]["detail"]


def test_a_stale_last_closed_date_and_a_stalled_run_make_the_app_not_ready(tmp_path) -> None:
    app = _app(tmp_path, EOD_STALL_SECONDS=60)
    with app.app_context():
        today = clock.today()
        session = get_db(app).session()
        session.add(EodStepRun(business_date=today - timedelta(days=3), step=FINALIZE, partition="*"))
        session.commit()
        status, body = _ready(app)
        assert status == 503 and "more than 2 days" in body["checks"]["eod"]["detail"]
        session.add(EodStepRun(business_date=today - timedelta(days=1), step=FINALIZE, partition="*"))
        session.commit()
        assert _ready(app)[0] == 200
        record_dispatch(session, today, 4, datetime.now(UTC) - timedelta(minutes=5))
        session.commit()
        status, body = _ready(app)
        assert status == 503 and "stalled" in body["checks"]["eod"]["detail"]


def _scrape(app) -> dict[str, list]:
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(answer.get_data(as_text=True))}


def test_the_scrape_counts_requests_by_route_and_status_plugin_calls_eod_and_the_webhook_backlog(tmp_path) -> None:
    app = _app(tmp_path, "scrape", **PAYMENT_PLUGINS, API_WEBHOOKS_ENABLED=False)
    publish_sample(app, "consumer_installment")
    channel = Channel(app.test_client(), new_key(app))
    before = _scrape(app)

    def requests(route: str, status: str) -> float:
        return sum(s.value for s in _scrape(app).get("loanfactory_http_requests", [])
                   if s.name.endswith("_total") and s.labels["route"] == route and s.labels["status"] == status)

    for _ in range(3):
        app.test_client().get("/healthz")
    assert requests("/healthz", "200") - sum(
        s.value for s in before.get("loanfactory_http_requests", [])
        if s.name.endswith("_total") and s.labels["route"] == "/healthz") == 3
    assert app.test_client().get("/api/v1/products").status_code == 401
    assert requests("/api/v1/products", "401") >= 1
    assert channel.post(APPLY, application_body()).status_code == 201
    scraped = _scrape(app)
    durations = {(s.labels["plugin"], s.labels["hook"]) for s in scraped["loanfactory_plugin_call_duration_seconds"]
                 if s.name.endswith("_count") and s.value > 0}
    assert {"scorecard", "sandbox_bureau"} <= {plugin for plugin, _hook in durations}, durations
    latency = [s for s in scraped["loanfactory_http_request_duration_seconds"]
               if s.name.endswith("_count") and s.labels["route"] == "/api/v1/products/<code>/applications"]
    assert latency and latency[0].value >= 1

    with app.app_context():
        session = get_db(app).session()
        hook = subscribe(session, "partner-app", "http://127.0.0.1:9/hooks", ["*"],
                         policy=TargetPolicy(allow_http=True, allow_loopback=True))
        session.flush()
        session.add_all(WebhookEvent(subscription_id=hook.id, transition_id=n, event_type="loan.overdue", payload={},
                                     status="pending", attempts=0) for n in range(2))
        day = clock.today() - timedelta(days=1)
        record_dispatch(session, day, 1, datetime.now(UTC) - timedelta(seconds=90))
        session.add_all([EodStepRun(business_date=day, step="classify", partition="1-50000"),
                         EodStepRun(business_date=day, step=FINALIZE, partition="*")])
        session.commit()
    scraped = _scrape(app)
    assert scraped["loanfactory_webhook_backlog"][0].value == 2
    assert scraped["loanfactory_eod_last_run_partitions"][0].value == 1
    assert 0 < scraped["loanfactory_eod_last_run_duration_seconds"][0].value < 600
    assert scraped["loanfactory_eod_last_closed_date"][0].value == clock.clock_of(app).start_of(day).timestamp()
    assert scraped["loanfactory_eod_run_stalled"][0].value == 0


@shared_task(name="tests.ops.log_in_task")
def log_in_task() -> None:
    logging.getLogger("loanfactory.tests").info("inside the task")


def test_json_logs_carry_the_request_id_from_the_call_into_the_task_it_sent(tmp_path) -> None:
    app = _app(tmp_path, "logs", CELERY={"broker_url": "memory://", "task_always_eager": False})
    stream = io.StringIO()

    def send() -> str:
        log_in_task.apply_async()
        return "sent"

    app.add_url_rule("/send", "send", send)
    with start_worker(app.extensions["celery"], pool="threads", concurrency=1, perform_ping_check=False,
                      shutdown_timeout=10):
        handler = logs.configure_logging("INFO", "json", stream)  # after the worker set its own up
        try:
            answer = app.test_client().get("/send", headers={"X-Request-ID": "req-42"})
            assert answer.headers["X-Request-ID"] == "req-42"
            for _ in range(200):
                if "inside the task" in stream.getvalue():
                    break
                time.sleep(0.05)
            fresh = app.test_client().get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
        finally:
            logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "loanfactory.access"]
    assert access[0]["request_id"] == "req-42" and access[0]["route"] == "/send" and access[0]["status"] == 200
    assert {"time", "level", "message", "duration_ms"} <= set(access[0])
    (task_line,) = [line for line in lines if line["message"] == "inside the task"]
    assert task_line["request_id"] == "req-42"
    assert fresh.headers["X-Request-ID"] != "bad id with spaces" and len(fresh.headers["X-Request-ID"]) == 32
