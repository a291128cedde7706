"""Persistence foundations: the declarative base, exact money columns, engines and sessions.

One :class:`Base` holds every table's metadata. Money columns use :class:`Amount`: ``NUMERIC(20, 4)`` on
PostgreSQL and a canonical decimal string on SQLite (which would otherwise store a float), so values come
back as the exact ``Decimal`` that went in. The database is chosen by ``DATABASE_URL``; the embedded
default is a SQLite file. Nothing here commits: callers own the session and its transaction boundary.

SQLite runs with SQLAlchemy's documented pysqlite fix ("Serializable isolation / Savepoints / Transactional
DDL"): the driver's own transaction handling is switched off (``isolation_level = None``) and SQLAlchemy
emits ``BEGIN`` when its transaction begins. Left alone, pysqlite opens a transaction only at the first
write, so a ``SAVEPOINT`` issued before it becomes the outermost transaction (its ``RELEASE`` commits and
its ``ROLLBACK TO`` undoes writes it should not), and reads before the first write are not isolated.
The kernel's sessions rely on savepoints (the end-of-day claims a step in one, every plugin call runs in
one), so the fix is applied to every SQLite engine.

SQLite lets one transaction write at a time, and in WAL mode a transaction that read first and then writes
after another writer committed fails at once with "database is locked" (its snapshot is stale; waiting
cannot help). A transaction therefore takes the write lock when it begins (``BEGIN IMMEDIATE``, which
waits for the writer before it up to the busy timeout, 30 s), unless its session was made to read only:
sessions of :func:`make_session_factory` whose ``writes`` answers false are bound to :func:`for_reading`'s
engine and keep a deferred ``BEGIN``, reading their snapshot alongside the writer, as WAL allows.

Tables whose rows the end-of-day rewrites every day (a loan's balance projection, its current
installment) keep free room in each PostgreSQL page (:func:`keep_pages_free`), so the new row version
lands on the same page as a HOT update and no index gets a new entry.

Keys that programs make and only ever compare for equality or sort for locality (idempotency keys) use
:func:`byte_ordered`: on PostgreSQL they are compared byte by byte (``COLLATE "C"``), not by the
database's linguistic collation, whose comparisons cost several times more in every index search.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    DDL,
    ForeignKeyConstraint,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.db import driver
from core.money import to_decimal

DEFAULT_DATABASE_URL = "sqlite:///instance/loanfactory.sqlite3"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every kernel table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: ``info`` key naming the one dialect a constraint is created on (:func:`only_on`)
ONLY_ON = "only_on"
_Conditional = TypeVar("_Conditional", ForeignKeyConstraint, UniqueConstraint, Index)


def only_on(constraint: _Conditional, dialect: str) -> _Conditional:
    """Create ``constraint`` (or index) on ``dialect`` only; elsewhere a trigger or another index holds its rule.

    The constraint stays in the metadata (relationships and joins follow it); ``info`` records the dialect
    so that comparing the models with a database (:func:`loanfactory.migrate.pending_changes`) expects it
    there only.
    """
    constraint.info[ONLY_ON] = dialect
    return constraint.ddl_if(dialect=dialect)


def byte_ordered(length: int) -> Any:
    """A ``VARCHAR(length)`` compared byte by byte on PostgreSQL (``COLLATE "C"``), plain elsewhere.

    For machine-made keys: the unique index of such a column is searched on every insert, and a
    linguistic collation (``en_US.UTF-8``, ``zh_CN.UTF-8``, even ``C.UTF-8`` on PostgreSQL 15) compares
    through the C library's ``strcoll`` and sorts without abbreviated keys. Equality is the same under
    every deterministic collation, so lookups by key find the same rows.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def keep_pages_free(table: Table, fillfactor: int) -> None:
    """Create ``table`` on PostgreSQL with ``fillfactor`` (percent of each page filled by inserts).

    An ``UPDATE`` that changes no indexed column is a HOT update when the page holding the row has room
    for the new version: no index gets an entry, and the old version is pruned by the next reader once no
    transaction sees it. A table whose rows are all rewritten in one transaction needs half of each page
    free for every update of it to be HOT. Other databases ignore the setting.
    """
    if not 10 <= fillfactor <= 100:
        raise ValueError(f"fillfactor: {fillfactor} is not a percentage from 10 to 100")
    ddl = DDL(f"ALTER TABLE {table.name} SET (fillfactor = {fillfactor})")  # type: ignore[no-untyped-call]
    event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))


class Amount(TypeDecorator[Decimal]):
    """An exact decimal: ``NUMERIC(20, 4)`` on PostgreSQL, a decimal string elsewhere.

    Floats are refused on the way in (:class:`~core.errors.FloatMoneyError`). The expression type is
    ``NUMERIC``, so ``+`` in SQL adds (on a string type PostgreSQL would concatenate).
    """

    impl = Numeric(20, 4, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(20, 4, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_decimal(value)
        if dialect.name == "postgresql":
            return amount
        return format(amount, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


class Fraction(Amount):
    """An exact amount with sub-fen precision: ``NUMERIC(40, 24)`` on PostgreSQL, decimal text elsewhere."""

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(40, 24, asdecimal=True))
        return super().load_dialect_impl(dialect)


def database_url(url: str | None = None) -> str:
    """``url``, else ``DATABASE_URL``, else the embedded SQLite default."""
    return url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout, PostgreSQL psycopg 3."""
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_engine(url, **kwargs)
    driver.send_savepoints_on_the_driver(engine)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Pragmas, and pysqlite's implicit transactions off (SQLAlchemy's ``begin`` event emits ``BEGIN``)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


#: execution option of a SQLite engine whose transactions begin with a deferred ``BEGIN`` (:func:`for_reading`)
SQLITE_READS = "loanfactory_sqlite_reads"


def for_reading(engine: Engine) -> Engine:
    """``engine`` for transactions that only read: on SQLite (sharing its pool) each begins with a deferred
    ``BEGIN``, so it reads beside a writer; other databases' ``engine`` itself."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_READS: True})


def _sqlite_begin(connection: Connection) -> None:
    """``BEGIN IMMEDIATE``: a transaction takes SQLite's write lock when it starts, so a second one waits for
    it (the busy timeout) instead of failing with "database is locked" when it writes after reading while
    the other committed (a deferred transaction cannot upgrade a stale snapshot). Only a session made to
    read (:func:`for_reading`) begins deferred; an ``AUTOCOMMIT`` connection begins nothing."""
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN" if options.get(SQLITE_READS) else "BEGIN IMMEDIATE")


class _Sessions(sessionmaker[Any]):
    """A session factory choosing, as each session is made, between the writing and the reading engine."""

    def __init__(self, engine: Engine, writes: Callable[[], bool]) -> None:
        super().__init__(bind=engine, expire_on_commit=False)
        self.reading, self.writes = for_reading(engine), writes

    def __call__(self, **local_kw: Any) -> Any:
        if "bind" not in local_kw and not self.writes():
            local_kw["bind"] = self.reading
        return super().__call__(**local_kw)


def make_session_factory(engine: Engine, writes: Callable[[], bool] | None = None) -> sessionmaker[Any]:
    """A session factory bound to ``engine``; sessions do not expire objects on commit.

    Args:
        writes: asked as each session is made; when it answers false the session only reads and its
            transactions begin deferred on SQLite (:func:`for_reading`). Every other SQLite transaction takes
            the write lock as it begins; other databases lock rows as they go.
    """
    if writes is None or engine.dialect.name != "sqlite":
        return sessionmaker(bind=engine, expire_on_commit=False)
    return _Sessions(engine, writes)
