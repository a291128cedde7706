"""A SQLite-only session for the refusal tests, where the database plays no part (the storage tests use the
shared ``db_session``, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory


@pytest.fixture
def sqlite_session(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/refusals.sqlite3")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()
