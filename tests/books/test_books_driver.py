"""``core.db.driver``: a Core statement run on the driver's cursor gives what ``Connection.execute`` gives.

Each test runs on SQLite (where the module hands the statement to SQLAlchemy) and on PostgreSQL (where it
runs on psycopg's cursor); the reference is always SQLAlchemy's own execution of the same statement.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.customers.pii import EncryptedString
from core.db import driver
from core.db.base import make_engine, make_session_factory

STAMP = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
_ticks = itertools.count()


def _stamp() -> datetime:
    """A Python-side default whose every call is seen (the minute counts the calls)."""
    return STAMP.replace(minute=next(_ticks) % 60)


METADATA = MetaData()
NOTES = Table(
    "driver_notes", METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), unique=True, nullable=False),
    Column("secret", EncryptedString("driver_notes.secret"), nullable=True),
    Column("amount", Numeric(20, 4), nullable=True),
    Column("written_at", DateTime(timezone=True), default=_stamp),
)
#: statements built once, as the hot paths build theirs
ADD = insert(NOTES).returning(NOTES.c.id, NOTES.c.written_at)
ADD_PLAIN = insert(NOTES)
BY_CODE = select(NOTES.c.code, NOTES.c.secret, NOTES.c.amount, NOTES.c.written_at).where(
    NOTES.c.code == bindparam("code"))
IN_RANGE = select(NOTES.c.code).where(NOTES.c.amount > 10, NOTES.c.amount < bindparam("below")).order_by(NOTES.c.code)
SET_AMOUNT = update(NOTES).where(NOTES.c.code == bindparam("target"))
IN_LIST = select(NOTES.c.code).where(NOTES.c.code.in_(bindparam("codes", expanding=True))).order_by(NOTES.c.code)


@pytest.fixture
def engine(db_engine: Engine) -> Engine:
    METADATA.create_all(db_engine)
    return db_engine


def test_rows_written_and_read_on_the_driver_match_sqlalchemys(engine):
    with engine.begin() as connection:
        (row,) = driver.execute(connection, ADD, {"code": "a", "secret": "身份证 110", "amount": Decimal("12.3456")})
        connection.execute(ADD_PLAIN, {"code": "b", "secret": "phone 138", "amount": Decimal("99")})
    new_id, written_at = row
    assert isinstance(new_id, int)
    assert written_at.astimezone(UTC).replace(minute=0) == STAMP.replace(minute=0)  # the Python default ran
    with engine.connect() as connection:
        for code in ("a", "b"):
            ours = driver.execute(connection, BY_CODE, {"code": code})
            theirs = [tuple(r) for r in connection.execute(BY_CODE, {"code": code})]
            assert ours == theirs and len(ours) == 1
        assert ours[0][1] == "phone 138"  # decrypted by the column type on the way out
        assert isinstance(ours[0][2], Decimal)
        stored = connection.execute(text("SELECT secret FROM driver_notes WHERE code = 'a'")).scalar_one()
        assert "身份证" not in stored and "110" not in stored  # encrypted by the column type on the way in
        # a statement's own values (10 here) are bound with the values given
        assert driver.execute(connection, IN_RANGE, {"below": Decimal(100)}) == [("a",), ("b",)]
        assert driver.execute(connection, IN_RANGE, {"below": Decimal(50)}) == [("a",)]


def test_an_update_writes_only_the_columns_given_and_the_others_keep_their_values(engine):
    with engine.begin() as connection:
        driver.execute(connection, ADD_PLAIN, {"code": "a", "secret": "kept", "amount": Decimal(1)})
        assert driver.execute(connection, SET_AMOUNT, {"target": "a", "amount": Decimal("2.5")}) == []
    with engine.connect() as connection:
        assert driver.execute(connection, BY_CODE, {"code": "a"})[0][1:3] == ("kept", Decimal("2.5"))


def test_a_python_default_is_computed_for_each_row(engine):
    with engine.begin() as connection:
        first = driver.execute(connection, ADD, {"code": "a"})[0][1]
        second = driver.execute(connection, ADD, {"code": "b"})[0][1]
    assert first != second


def test_a_statement_that_expands_its_parameters_runs_through_sqlalchemy(engine):
    with engine.begin() as connection:
        for code in "abc":
            driver.execute(connection, ADD_PLAIN, {"code": code})
        assert driver.execute(connection, IN_LIST, {"codes": ["a", "c", "z"]}) == [("a",), ("c",)]


def test_a_unique_violation_is_sqlalchemys_integrity_error_and_a_savepoint_recovers(engine):
    session = make_session_factory(engine)()
    connection = session.connection()
    driver.execute(connection, ADD_PLAIN, {"code": "a"})
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError):
        driver.execute(session.connection(), ADD_PLAIN, {"code": "a"})
    savepoint.rollback()
    driver.execute(session.connection(), ADD_PLAIN, {"code": "b"})
    session.commit()
    with engine.connect() as check:
        assert driver.execute(check, select(NOTES.c.code).order_by(NOTES.c.code), {}) == [("a",), ("b",)]


def test_without_an_explicit_transaction_the_connection_begins_one_that_commit_commits(engine):
    with engine.connect() as connection:
        driver.execute(connection, ADD_PLAIN, {"code": "kept"})
        connection.commit()
        driver.execute(connection, ADD_PLAIN, {"code": "dropped"})
        connection.rollback()
    with engine.connect() as connection:
        assert driver.execute(connection, select(NOTES.c.code), {}) == [("kept",)]


def test_the_engines_cursor_listeners_hear_every_statement_and_savepoint(engine):
    heard: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_rest: heard.append(statement))
    session = make_session_factory(engine)()
    driver.execute(session.connection(), ADD_PLAIN, {"code": "a"})
    nested = session.begin_nested()
    driver.execute(session.connection(), ADD_PLAIN, {"code": "b"})
    nested.commit()
    session.commit()
    words = [statement.split()[0] for statement in heard if statement.split()[0] not in ("BEGIN", "COMMIT")]
    assert words == ["INSERT", "SAVEPOINT", "INSERT", "RELEASE"]


@pytest.mark.postgres
def test_a_lost_connection_is_invalidated_and_the_pool_replaces_it(postgres_url):
    engine = make_engine(postgres_url)
    METADATA.create_all(engine)
    try:
        with engine.connect() as connection:
            driver.execute(connection, select(NOTES.c.code), {})
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            connection.rollback()
            with engine.connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as raised:
                driver.execute(connection, select(NOTES.c.code), {})
            assert raised.value.connection_invalidated
        with engine.connect() as connection:  # a new connection, not the dead one
            assert driver.execute(connection, select(NOTES.c.code), {}) == []
    finally:
        engine.dispose()
