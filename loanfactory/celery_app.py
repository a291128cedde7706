"""Celery wired the way the Flask docs show ("Background Tasks with Celery").

Every task runs inside the app context, so it uses the same database and plugins as the web app. The
embedded default runs tasks eagerly in-process (``task_always_eager``); production sets
``LOANFACTORY_CELERY__broker_url=redis://...`` (and ``__task_always_eager=false``) and starts workers with
``celery -A loanfactory.worker worker``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

EAGER_DEFAULTS: dict[str, Any] = {
    "broker_url": "memory://",
    "result_backend": "cache+memory://",
    "task_always_eager": True,
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
