"""The app factory: one ``create_app(config=None)``; every subsystem attaches itself with ``init_app``.

Configuration comes, in order, from the defaults below, ``LOANFACTORY_*`` environment variables
(``LOANFACTORY_CELERY__broker_url`` sets a nested key) and the ``config`` mapping a caller passes (tests).
``DATABASE_URL`` in the environment chooses the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

import admin
import api
from loanfactory import celery_app, database, plugins_host, settings, tasks
from loanfactory.json_provider import OrjsonProvider

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": "dev-only-change-me",
    "DATABASE_URL": None,
    "AUTO_CREATE_TABLES": True,
    "CELERY": {},
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: database, Celery, then the subsystems (plugins, API, admin)."""
    app = Flask("loanfactory", instance_relative_config=True)
    app.json = OrjsonProvider(app)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("LOANFACTORY")
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)
    settings.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)
    database.init_app(app)
    celery_app.celery_init_app(app)
    # subsystems register here, one init_app call each
    plugins_host.init_app(app)
    admin.init_app(app)
    api.init_app(app)
    tasks.init_app(app)
    return app
