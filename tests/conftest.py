"""Shared fixtures: a database per test on SQLite and on PostgreSQL.

``db_engine`` is parametrised over both back ends. PostgreSQL tests get a database of their own
(created on the server at 127.0.0.1:5432, dropped afterwards), so parallel test processes and other
sessions never meet. Outside CI a missing server skips them with the reason; with ``CI=true`` a missing
server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory

# The suite runs the app in test mode, where development secrets are allowed (loanfactory.security): the
# commands the tests invoke build their app from the environment. Tests of the production refusal pass
# TESTING=False themselves.
os.environ.setdefault("LOANFACTORY_TESTING", "true")

PG_ADMIN_URL = os.environ.get("LOANFACTORY_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(available: bool, reason: str) -> None:
    """Skip with ``reason`` outside CI; fail in CI, where every service must be there."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return _postgres_available()


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    require_service(postgres_available, "PostgreSQL is not reachable at 127.0.0.1:5432 (run ../shared/services.sh)")
    yield from fresh_postgres_database()


def fresh_postgres_database() -> Iterator[str]:
    """Create a PostgreSQL database, yield its URL, drop it (the body of a fixture)."""
    name = f"lf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh database URL on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.sqlite3"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database with every kernel table created."""
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session on ``db_engine``; the test owns commits, the fixture rolls back and closes."""
    session = make_session_factory(db_engine)()
    yield session
    session.rollback()
    session.close()
