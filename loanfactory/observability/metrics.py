"""Prometheus metrics at ``/metrics``: what this process counted, and what the database says at the scrape.

Counted per process (with gunicorn's several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory so the scrape adds up every worker's; :mod:`loanfactory.gunicorn_conf` clears a dead worker's):

================================================ ========= ==================================================
metric                                           type      labels
================================================ ========= ==================================================
``loanfactory_http_requests_total``              counter   ``method``, ``route`` (the URL rule), ``status``
``loanfactory_http_request_duration_seconds``    histogram ``method``, ``route``, ``status``
``loanfactory_plugin_call_duration_seconds``     histogram ``plugin``, ``hook``, ``outcome``
``loanfactory_plugin_call_failures_total``       counter   ``plugin``, ``hook``, ``outcome`` (not ``ok``)
================================================ ========= ==================================================

Read from the database at each scrape, so they are right whichever worker did the work:

================================================ ========= ==================================================
``loanfactory_eod_last_closed_date``             gauge     the last closed business date (Unix time of its
                                                           midnight in the lender's zone)
``loanfactory_eod_last_run_duration_seconds``    gauge     from sending (or the first partition) to the close
                                                           of the last closed date
``loanfactory_eod_last_run_partitions``          gauge     partitions of the last closed date
``loanfactory_eod_open_run_partitions``          gauge     the open run's partitions, label ``state``
                                                           (``done``, ``planned``)
``loanfactory_eod_run_stalled``                  gauge     1 while the open run has stalled
``loanfactory_webhook_backlog``                  gauge     webhook events waiting to be delivered
================================================ ========= ==================================================
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.businessday.closes import FINALIZE, EodStepRun, last_closed
from core.channels.webhooks import backlog
from core.db.base import make_session_factory
from core.eod.runs import EodRun, open_run
from core.plugins.manager import CallRecord
from loanfactory import clock
from loanfactory.database import get_db

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUESTS = Counter("loanfactory_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("loanfactory_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "route", "status"])
PLUGIN_CALLS = Histogram("loanfactory_plugin_call_duration_seconds", "Duration of plugin calls",
                         ["plugin", "hook", "outcome"])
PLUGIN_FAILURES = Counter("loanfactory_plugin_call_failures", "Plugin calls that failed, timed out or refused",
                          ["plugin", "hook", "outcome"])


def observe_plugin_call(record: CallRecord) -> None:
    """Count one plugin call (the plugin manager's recorder calls this for every call)."""
    PLUGIN_CALLS.labels(record.plugin, record.hook, record.outcome).observe(record.duration_ms / 1000)
    if record.outcome != "ok":
        PLUGIN_FAILURES.labels(record.plugin, record.hook, record.outcome).inc()


class DatabaseCollector(Collector):
    """The end-of-day and webhook gauges, read from ``app``'s database at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from loanfactory.tasks.eod import stall_after

        business = clock.clock_of(self.app)
        with self.app.app_context(), make_session_factory(get_db(self.app).engine)() as session:
            last = last_closed(session)
            if last is not None:
                yield GaugeMetricFamily("loanfactory_eod_last_closed_date", "Last closed business date (midnight, "
                                        "Unix time)", value=business.start_of(last).timestamp())
                yield from _last_run(session, last)
            running = open_run(session)
            planned = GaugeMetricFamily("loanfactory_eod_open_run_partitions", "Partitions of the open run",
                                        labels=["state"])
            if running is not None:
                planned.add_metric(["done"], running.done)
                planned.add_metric(["planned"], running.partitions)
            yield planned
            stalled = running is not None and running.stalled(clock.now(), stall_after())
            yield GaugeMetricFamily("loanfactory_eod_run_stalled", "1 while the open end-of-day run has stalled",
                                    value=int(stalled))
            yield GaugeMetricFamily("loanfactory_webhook_backlog", "Webhook events waiting to be delivered",
                                    value=backlog(session))


def _last_run(session: Any, last: Any) -> Iterator[GaugeMetricFamily]:
    closed_at, first_step, partitions = session.execute(
        select(func.max(EodStepRun.finished_at).filter(EodStepRun.step == FINALIZE),
               func.min(EodStepRun.finished_at), func.count().filter(EodStepRun.step == "classify"))
        .where(EodStepRun.business_date == last)).one()
    sent = session.scalar(select(EodRun.dispatched_at).where(EodRun.business_date == last))
    started = min(t for t in (sent, first_step) if t is not None)
    yield GaugeMetricFamily("loanfactory_eod_last_run_duration_seconds", "Duration of the last closed date's run",
                            value=max((_aware(closed_at) - _aware(started)).total_seconds(), 0.0))
    yield GaugeMetricFamily("loanfactory_eod_last_run_partitions", "Partitions of the last closed date",
                            value=int(partitions))


def _aware(moment: Any) -> Any:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _observed(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        labels = (request.method, route, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Time every request of ``app`` and serve ``/metrics``."""
    app.before_request(_started)
    app.after_request(_observed)
    collector = DatabaseCollector(app)

    def metrics() -> Response:
        scrape = CollectorRegistry()
        scrape.register(collector)
        return Response(generate_latest(_process_registry()) + generate_latest(scrape), content_type=CONTENT_TYPE)

    app.add_url_rule("/metrics", "metrics", metrics)
