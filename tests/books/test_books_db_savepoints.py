"""Savepoints inside a session's transaction, on SQLite (with the pysqlite fix of ``core.db.base``) and PostgreSQL.

The scenario every kernel savepoint follows (the end-of-day's step claim, origination's customer insert,
a plugin call): the outer transaction writes, a savepoint is opened, written to and rolled back, the outer
transaction writes again and commits. Only the savepoint's write may be lost. Without the fix, pysqlite
(which opens its transaction lazily, at the first write) is outside any transaction when a savepoint is
opened before the first write, so that savepoint becomes the outermost transaction: releasing it commits,
and the session's rollback cannot undo it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from core.db.base import make_engine, make_session_factory


@pytest.fixture
def engine(db_engine: Engine) -> Engine:
    with db_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE savepoint_notes (name VARCHAR(20) UNIQUE)")
    return db_engine


def _write(session: Session, name: str) -> None:
    session.execute(text("INSERT INTO savepoint_notes (name) VALUES (:name)"), {"name": name})


def _names(engine: Engine) -> list[str]:
    with make_session_factory(engine)() as fresh:
        return list(fresh.scalars(text("SELECT name FROM savepoint_notes ORDER BY name")))


def test_a_rolled_back_savepoint_keeps_the_outer_transactions_earlier_writes(engine):
    session = make_session_factory(engine)()
    _write(session, "a-outer")
    savepoint = session.begin_nested()
    _write(session, "b-savepoint")
    savepoint.rollback()
    _write(session, "c-outer")
    session.commit()
    assert _names(engine) == ["a-outer", "c-outer"]


def test_a_savepoint_refused_by_a_constraint_leaves_the_outer_write_and_the_transaction_usable(engine):
    session = make_session_factory(engine)()
    _write(session, "a-outer")
    with pytest.raises(IntegrityError), session.begin_nested():
        _write(session, "a-outer")
    _write(session, "c-outer")
    session.commit()
    assert _names(engine) == ["a-outer", "c-outer"]


def test_a_savepoint_released_before_any_write_is_still_undone_by_the_outer_rollback(engine):
    """pysqlite's default made this savepoint the outermost transaction, and its RELEASE committed."""
    session = make_session_factory(engine)()
    with session.begin_nested():
        _write(session, "b-savepoint")
    session.rollback()
    assert _names(engine) == []


def test_a_transaction_reads_one_snapshot_from_its_begin(engine):
    """Serializable isolation on SQLite too: the snapshot is taken at BEGIN, not at the first write. SQLite's
    BEGIN is IMMEDIATE: the transaction holds the write lock from its start, so a writer waits for it (the busy
    timeout) instead of failing later on a stale snapshot; one that will not wait is refused at once."""
    count = text("SELECT count(*) FROM savepoint_notes")
    reader = make_session_factory(engine)()
    assert reader.scalar(count) == 0
    if engine.dialect.name == "sqlite":
        impatient = make_engine(engine.url.render_as_string(hide_password=False), connect_args={"timeout": 0})
        with pytest.raises(OperationalError, match="locked"), make_session_factory(impatient)() as writer:
            _write(writer, "a-outer")
        impatient.dispose()
        assert reader.scalar(count) == 0
        reader.rollback()
    writer = make_session_factory(engine)()
    _write(writer, "a-outer")
    writer.commit()
    reader.rollback()
    assert reader.scalar(count) == 1
