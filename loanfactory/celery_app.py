"""Celery wired the way the Flask docs show ("Background Tasks with Celery").

Every task runs inside the app context, so it uses the same database and plugins as the web app. The
embedded default runs tasks eagerly in-process (``task_always_eager``); production sets
``LOANFACTORY_CELERY__broker_url=redis://...`` (and ``__task_always_eager=false``) and starts workers with
``celery -A loanfactory.worker worker`` and one beat with ``celery -A loanfactory.worker beat``.

No task's result is read by anyone (``task_ignore_result``; a configured ``result_backend`` expires what it
gets after ``result_expires``), so a deployment needs no result backend. Tasks are acknowledged after they
ran (``task_acks_late``) and put back when their worker process dies (``task_reject_on_worker_lost``); a
worker killed whole leaves its tasks unacknowledged until the broker's visibility timeout
(:data:`VISIBILITY_TIMEOUT`), which end-of-day does not wait for (:mod:`loanfactory.tasks.eod`).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

#: ``broker_transport_options.visibility_timeout`` (seconds): how long Redis keeps a task a worker took but never
#: acknowledged (the worker was killed whole) before another worker gets it; longer than the longest task
VISIBILITY_TIMEOUT = 900

EAGER_DEFAULTS: dict[str, Any] = {
    "broker_url": "memory://",
    "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
    "task_always_eager": True,
    # nothing reads a task's result (end-of-day follows its run log, webhooks their outbox): keep none
    "task_ignore_result": True,
    "result_expires": 3600,
    "task_eager_propagates": True,
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for ``app`` from ``app.config["CELERY"]`` and make it the default."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object({**EAGER_DEFAULTS, **app.config.get("CELERY", {})})
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
