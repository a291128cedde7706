"""The app's plugin manager: built once per app by ``init_app``, from the app's configuration.

Configuration keys (see :class:`core.plugins.manager.PluginSettings`): ``PLUGINS_DISABLED`` (names),
``PLUGINS_TIMEOUT`` (seconds, default 10), ``PLUGINS_TIMEOUTS`` (per plugin or ``plugin.hook``),
``PLUGIN_CONFIG`` (``{name: {...}}``, each plugin's own settings), ``PLUGINS_ENTRYPOINTS`` (load third
parties, default on) and ``PLUGINS_EXTRA`` (more module paths). Plugins name their tables through the
``plugin_schema`` hook; the tables are created here, after loading, when ``AUTO_CREATE_TABLES`` is on.
What runs without an app (the command line's plugin commands, the migrations) builds its manager from
the same configuration with :func:`configured_manager`.

A call made without a session (a CLI listing, a broadcast outside a request) is recorded in a session of
its own, committed at once; calls with the caller's session are recorded in it (see
:mod:`core.plugins.manager`).

Lifecycle events: every application or loan state change the kernel records (a
:class:`core.states.StateTransition` row) in a session of the app is broadcast to the ``lifecycle_event``
listeners just before that session commits, in the same transaction, so a listener's writes (a webhook
outbox row, an audit line) commit or roll back with the change itself and a rolled-back change is never
announced. The changes the kernel records with Core statements (``StateMachine.start_written``,
``transition_written``) are announced the same way, from ``session.info[core.states.WRITTEN]``, where the
flushed ones join them in the order they were written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.db.base import make_session_factory
from core.plugins.manager import CallRecord, PluginManager, make_plugin_manager, record_in_session
from core.plugins.types import LifecycleEvent
from core.states import WRITTEN, StateTransition
from loanfactory.clock import clock_of
from loanfactory.config import load_config
from loanfactory.database import get_db
from loanfactory.models import load_models
from loanfactory.observability.metrics import observe_plugin_call

EXTENSION = "loanfactory.plugins"
ENTITIES = ("application", "loan")
#: a listener that changes states itself causes more events; deliver at most this many rounds per commit
MAX_ROUNDS = 5


def init_app(app: Flask) -> PluginManager:
    """Build the plugin manager from ``app.config`` into ``app.extensions["loanfactory.plugins"]``."""
    database = get_db(app)
    sessions = make_session_factory(database.engine)

    def recorder(record: CallRecord, session: Session | None) -> None:
        observe_plugin_call(record)
        if session is not None:
            record_in_session(record, session)
            return
        with sessions() as own:
            record_in_session(record, own)
            own.commit()

    manager = make_plugin_manager(app.config, recorder=recorder, clock=lambda: clock_of(app).now())
    if app.config.get("AUTO_CREATE_TABLES", True):
        load_models(manager.schemas().values()).create_all(database.engine)
    deliver_lifecycle_events(manager, database.session.session_factory)
    app.extensions[EXTENSION] = manager
    return manager


def configured_manager(config: Mapping[str, Any] | None = None) -> PluginManager:
    """A manager built from the configuration alone (:func:`loanfactory.config.load_config` with ``config``),
    for what runs without an app; it loads the plugins the app loads. Its calls made without a session are
    logged, not recorded."""
    return make_plugin_manager(load_config(config))


def deliver_lifecycle_events(manager: PluginManager, factory: sessionmaker[Any]) -> None:
    """Broadcast the state changes flushed in ``factory``'s sessions to ``lifecycle_event`` before commit."""

    @event.listens_for(factory, "after_flush")
    def collect(session: Session, _context: Any) -> None:
        transitions = [obj for obj in session.new
                       if isinstance(obj, StateTransition) and obj.entity_type in ENTITIES]
        if transitions and manager.implementers("lifecycle_event"):
            session.info.setdefault(WRITTEN, []).extend(_values(t) for t in transitions)

    @event.listens_for(factory, "before_commit")
    def deliver(session: Session) -> None:
        for _round in range(MAX_ROUNDS):
            session.flush()
            rows: list[dict[str, Any]] = session.info.pop(WRITTEN, [])
            events = [_event(row) for row in rows if row["entity_type"] in ENTITIES]
            if not events or not manager.implementers("lifecycle_event"):
                return
            for change in events:
                manager.broadcast("lifecycle_event", session=session, subject=f"{change.entity}:{change.entity_id}",
                                  event=change)


def _values(transition: StateTransition) -> dict[str, Any]:
    return {"entity_type": transition.entity_type, "entity_id": transition.entity_id,
            "from_state": transition.from_state, "to_state": transition.to_state, "at": transition.at,
            "actor": transition.actor, "reason": transition.reason}


def _event(row: dict[str, Any]) -> LifecycleEvent:
    return LifecycleEvent(entity=row["entity_type"], entity_id=row["entity_id"], from_state=row["from_state"],
                          to_state=row["to_state"], at=row["at"], actor=row["actor"], reason=row["reason"] or "")


def get_plugins(app: Flask | None = None) -> PluginManager:
    """The :class:`PluginManager` of ``app`` (default: the current app)."""
    manager: PluginManager = (app or current_app).extensions[EXTENSION]
    return manager
