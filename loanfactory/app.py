"""The app factory: one ``create_app(config=None)``; every subsystem attaches itself with ``init_app``.

Configuration comes from :func:`loanfactory.config.load_config`: the defaults, ``LOANFACTORY_*``
environment variables (``LOANFACTORY_CELERY__broker_url`` sets a nested key), ``DATABASE_URL``, and the
``config`` mapping a caller passes (tests). The web faces (``api``, ``admin``) are attached by module path
from ``FACES`` (:mod:`loanfactory.faces`), so importing this module imports neither, and the command
line's app, made with ``FACES = ()``, has neither.

The app runs in production unless told otherwise: ``DEMO`` (``loanfactory serve --demo``,
``LOANFACTORY_DEMO=true``) or Flask's ``TESTING`` (the test suite). In production it refuses to start while a
secret is missing or at a value published in the source (:mod:`loanfactory.security`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from loanfactory import celery_app, clock, database, faces, observability, plugins_host, security, settings, tasks
from loanfactory.config import load_config
from loanfactory.json_provider import OrjsonProvider


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: database, Celery, plugins, tasks, then the web faces ``FACES`` names.

    Raises:
        InsecureSettingsError: outside the demo and the tests, a secret is missing or a known default.
    """
    app = Flask("loanfactory", instance_relative_config=True)
    app.json = OrjsonProvider(app)
    app.config.update(load_config(config))
    settings.init_app(app)
    clock.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)
    database.init_app(app)
    celery_app.celery_init_app(app)
    # subsystems register here, one init_app call each
    plugins_host.init_app(app)
    security.check_secrets(app)
    security.init_app(app)
    tasks.init_app(app)
    observability.init_app(app)
    faces.init_app(app, app.config["FACES"])
    return app
