"""Fixtures of the product tests.

``sqlite_session`` is for lifecycle rules that are pure Python (the ORM guard, the state table,
maker-checker): they run on SQLite only, while the tests of database-level guarantees (triggers, the
partial unique index, a whole publication) use the shared ``db_session`` on both back ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory


@pytest.fixture
def sqlite_session(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/products.sqlite3")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    yield session
    session.rollback()
    session.close()
    engine.dispose()
