"""The recommended gunicorn settings: ``gunicorn -c python:loanfactory.gunicorn_conf 'loanfactory.app:create_app()'``.

Two sync workers (one per core, behind nginx, which keeps the client connections alive), bound to
``127.0.0.1:8000`` unless ``GUNICORN_BIND`` says otherwise; gunicorn's own access log stays off, since the app
writes one JSON line per request with its request id (:mod:`loanfactory.observability.logs`). The workers
count their Prometheus metrics into ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory made here unless the
environment names one), so ``/metrics`` adds every worker's up, and a worker that exits is marked dead there.
Any gunicorn option given on the command line overrides these.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
timeout = 30
accesslog = None
# before anything imports prometheus_client, which picks its value store at import
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="loanfactory-metrics-"))


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
