"""The app factory: one ``create_app(config=None)``; every subsystem attaches itself with ``init_app``.

Configuration comes, in order, from the defaults below, ``LOANFACTORY_*`` environment variables
(``LOANFACTORY_CELERY__broker_url`` sets a nested key) and the ``config`` mapping a caller passes (tests).
``DATABASE_URL`` in the environment chooses the database.

The app runs in production unless told otherwise: ``DEMO`` (``loanfactory serve --demo``,
``LOANFACTORY_DEMO=true``) or Flask's ``TESTING`` (the test suite). In production it refuses to start while a
secret is missing or at a value published in the source (:mod:`loanfactory.security`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

import admin
import api
from loanfactory import celery_app, database, plugins_host, security, settings, tasks
from loanfactory.json_provider import OrjsonProvider

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DEMO": False,
    "TESTING": False,
    "SESSION_COOKIE_SECURE": None,
    "DATABASE_URL": None,
    "AUTO_CREATE_TABLES": True,
    "CELERY": {},
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: database, Celery, then the subsystems (plugins, API, admin).

    Raises:
        InsecureSettingsError: outside the demo and the tests, a secret is missing or a known default.
    """
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
    security.check_secrets(app)
    security.init_app(app)
    admin.init_app(app)
    api.init_app(app)
    tasks.init_app(app)
    return app
