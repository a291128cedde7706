"""The app's configuration, read one way by the app factory and by what runs before or without an app.

Order: the defaults below, ``LOANFACTORY_*`` environment variables (Flask's ``from_prefixed_env``: values
parsed as JSON when they can be, ``LOANFACTORY_CELERY__broker_url`` sets a nested key), ``DATABASE_URL``,
then the mapping a caller passes (tests). The command line builds its plugin manager from this too (to
gather the plugins' commands, and the plugins' schemas for migrations), so it loads the plugins the app
will load.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from flask import Config

from loanfactory.faces import FACES

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DEMO": False,
    "TESTING": False,
    "SESSION_COOKIE_SECURE": None,
    "DATABASE_URL": None,
    "AUTO_CREATE_TABLES": True,
    "CELERY": {},
    "FACES": FACES,
}
PREFIX = "LOANFACTORY"


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The configuration from the defaults, the environment and ``overrides``, in that order."""
    config = Config(os.getcwd())
    config.from_mapping(copy.deepcopy(DEFAULTS))  # a nested env key must not write into DEFAULTS
    config.from_prefixed_env(PREFIX)
    if os.environ.get("DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if overrides:
        config.update(overrides)
    return dict(config)
