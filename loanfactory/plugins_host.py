"""The app's plugin manager: built once per app by ``init_app``, from the app's configuration.

Configuration keys (see :class:`core.plugin_manager.PluginSettings`): ``PLUGINS_DISABLED`` (names),
``PLUGINS_TIMEOUT`` (seconds, default 10), ``PLUGINS_TIMEOUTS`` (per plugin or ``plugin.hook``),
``PLUGIN_CONFIG`` (``{name: {...}}``, each plugin's own settings), ``PLUGINS_ENTRYPOINTS`` (load third
parties, default on) and ``PLUGINS_EXTRA`` (more module paths). Plugins may define tables on
``core.db.Base``; they exist only once the plugin is imported, so the tables are created here, after
loading, when ``AUTO_CREATE_TABLES`` is on.

A call made without a session (a CLI listing, a broadcast outside a request) is recorded in a session of
its own, committed at once; calls with the caller's session are recorded in it (see
:mod:`core.plugin_manager`).
"""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from core.db import Base, make_session_factory
from core.plugin_manager import CallRecord, PluginManager, make_plugin_manager, record_in_session
from loanfactory.database import get_db

EXTENSION = "loanfactory.plugins"


def init_app(app: Flask) -> PluginManager:
    """Build the plugin manager from ``app.config`` into ``app.extensions["loanfactory.plugins"]``."""
    database = get_db(app)
    sessions = make_session_factory(database.engine)

    def recorder(record: CallRecord, session: Session | None) -> None:
        if session is not None:
            record_in_session(record, session)
            return
        with sessions() as own:
            record_in_session(record, own)
            own.commit()

    manager = make_plugin_manager(app.config, recorder=recorder)
    if app.config.get("AUTO_CREATE_TABLES", True):
        Base.metadata.create_all(database.engine)
    app.extensions[EXTENSION] = manager
    return manager


def get_plugins(app: Flask | None = None) -> PluginManager:
    """The :class:`PluginManager` of ``app`` (default: the current app)."""
    manager: PluginManager = (app or current_app).extensions[EXTENSION]
    return manager
