"""What operators watch: health endpoints (:mod:`.health`), Prometheus metrics (:mod:`.metrics`) and JSON logs
carrying a request id into the Celery tasks (:mod:`.logs`). Attached to every app by ``create_app``."""

from __future__ import annotations

from flask import Flask

from loanfactory.observability import health, logs, metrics


def init_app(app: Flask) -> None:
    """Request ids and logging, metrics, and the health endpoints on ``app``."""
    logs.init_app(app)
    metrics.init_app(app)
    health.init_app(app)
