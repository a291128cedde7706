"""The app's database: one engine per app, one session per request or task.

``init_app`` builds the engine from ``DATABASE_URL`` (the embedded default is a SQLite file under the
instance folder), creates missing tables when ``AUTO_CREATE_TABLES`` is on (production turns it off and
runs ``loanfactory db upgrade``), and removes the
scoped session when the app context ends. Views and tasks own the transaction: they call
``db_session().commit()`` once, after the kernel calls of the operation succeed.

On SQLite every session begins its transactions with ``BEGIN IMMEDIATE`` but a request's whose view is
marked :data:`READS_ONLY` (a quote, a product's detail): concurrent writers take turns for the database's
write lock instead of failing (see :mod:`core.db.base`).
"""

from __future__ import annotations

import os

from flask import Flask, current_app, has_request_context, request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from core.db.base import make_engine, make_session_factory
from loanfactory.models import load_models

EXTENSION = "loanfactory.db"
#: the attribute of a view function that writes nothing though its method could (``api.auth.reads_only``)
READS_ONLY = "loanfactory_reads_only"


def _writes() -> bool:
    """Whether the session being made may write: always, but in a request whose view is marked
    :data:`READS_ONLY` (a GET may write: a contract document is stored when it is first drawn up)."""
    if not has_request_context():
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, READS_ONLY, False)


class Database:
    """The engine and scoped session of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = scoped_session(make_session_factory(engine, _writes))


def init_app(app: Flask) -> Database:
    """Attach a :class:`Database` to ``app`` and tear its session down with each app context."""
    url = app.config.get("DATABASE_URL") or f"sqlite:///{os.path.join(app.instance_path, 'loanfactory.sqlite3')}"
    database = Database(make_engine(url))
    if app.config.get("AUTO_CREATE_TABLES", True):
        load_models().create_all(database.engine)
    app.extensions[EXTENSION] = database

    @app.teardown_appcontext
    def remove_session(_exc: BaseException | None) -> None:
        database.session.remove()

    return database


def get_db(app: Flask | None = None) -> Database:
    """The :class:`Database` of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]


def db_session() -> Session:
    """The session of the current app context."""
    session: Session = get_db().session()
    return session
