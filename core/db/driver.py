"""Core statements run on the driver's cursor, for the statements every API request sends.

SQLAlchemy's execution of a statement (the compiled cache's lookup, the execution context, the parameters
built and processed, the result's metadata and its row objects) costs about as much CPU again as psycopg's
own work for the small statements of a request: measured on one connection, 0.18 ms a statement through
``Connection.execute`` against 0.07 ms on a psycopg cursor. :func:`execute` runs a Core statement that was
built once on the SQLAlchemy connection's own psycopg connection, in its transaction, with what SQLAlchemy
would have done kept:

- the statement is compiled once per dialect (its SQL, each parameter's name in it, default and bind
  processor, each returned column's result processor: the PII is encrypted on the way in and decrypted on
  the way out by its column type, as through SQLAlchemy);
- the engine's ``before_cursor_execute`` and ``after_cursor_execute`` listeners hear the statement;
- a driver error is raised as SQLAlchemy raises it (:class:`sqlalchemy.exc.IntegrityError` for a unique
  violation, and so on), and a lost connection is invalidated, so the pool does not hand it out again.

Elsewhere than on psycopg (SQLite, the embedded default), for a statement whose parameters SQLAlchemy
expands when it runs (``IN`` lists, literal-rendered values) and for an ``INSERT`` without ``RETURNING`` (to
which SQLAlchemy adds its own, for the new row's key) it is ``Connection.execute``: the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, Engine, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Computed:
    """A column's Python default, computed for each row that is not given the column (SQLAlchemy's wrapper
    of a function of nothing takes the execution context, which it ignores)."""

    function: Callable[[Any], Any]

    def __call__(self) -> Any:
        return self.function(None)


@dataclass(slots=True)
class _Plan:
    """A statement compiled for the driver: its SQL, its parameters ``(key, name in the SQL, default,
    processor)``, the types of the columns it returns (``None``: a text statement that names none) and,
    once a result has named the columns' database types, their result processors."""

    sql: str
    parameters: tuple[tuple[str, str, Any, _Processor], ...]
    returned: tuple[TypeEngine[Any], ...] | None
    results: tuple[_Processor, ...] | None = None

    def bound(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: each value given (or the statement's own) through its bind processor."""
        bound = {}
        for key, name, default, process in self.parameters:
            value = given[key] if key in given else default() if isinstance(default, _Computed) else default
            bound[name] = value if process is None else process(value)
        return bound

    def rows(self, rows: list[tuple[Any, ...]], cursor: Any, dialect: Dialect) -> list[tuple[Any, ...]]:
        """``rows`` through the returned columns' result processors (made for the types the cursor names)."""
        if self.results is None:
            codes = [column.type_code for column in cursor.description]
            self.results = tuple(type_.dialect_impl(dialect).result_processor(dialect, code)
                                 for type_, code in zip(self.returned or (), codes, strict=self.returned is not None))
        if not any(self.results):
            return rows
        return [tuple(value if process is None else process(value)
                      for value, process in zip(row, self.results, strict=True)) for row in rows]


#: plans by statement (built once each: at import, or once per shape as :mod:`core.db.direct`'s), dialect name and
#: the keys of the parameters given
_PLANS: dict[tuple[Executable, str, frozenset[str]], _Plan | None] = {}
_PLANS_SIZE = 1024
#: the key of a connection's reused cursor in its ``info`` (which lives as long as the driver's connection)
_CURSOR = "core.db.driver.cursor"
_TUPLES_OK = pq.ExecStatus.TUPLES_OK


def execute(connection: Connection, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
    """Run ``statement`` with ``parameters`` on ``connection`` and return the rows it returns (none for a
    statement that returns no rows).

    Raises:
        sqlalchemy.exc.DBAPIError: as ``Connection.execute`` raises it (a subclass by the driver's error).
    """
    dialect = connection.dialect
    key = (statement, dialect.name, frozenset(parameters))
    try:
        plan = _PLANS[key]
    except KeyError:
        if len(_PLANS) >= _PLANS_SIZE:
            _PLANS.clear()
        plan = _PLANS[key] = _plan(statement, key[2], dialect)
    if plan is None:
        result = connection.execute(statement, parameters)
        return [tuple(row) for row in result] if result.returns_rows else []
    return _run(connection, plan.sql, plan.bound(parameters), plan)


def _run(connection: Connection, sql: str, bound: Mapping[str, Any] | None,
         plan: _Plan | None) -> list[tuple[Any, ...]]:
    """Send ``sql`` on the connection's reused psycopg cursor, in the connection's transaction, between the
    engine's cursor listeners; the rows through ``plan``'s result processors."""
    if not connection.in_transaction():
        connection.begin()  # as Connection.execute begins one (autobegin), so that commit() commits
    dialect = connection.dialect
    cursor = connection.info.get(_CURSOR)
    driver: Any = connection.connection.driver_connection
    if cursor is None or cursor.closed or cursor.connection is not driver:
        cursor = connection.info[_CURSOR] = driver.cursor()
    dispatch = connection.dispatch
    for listener in dispatch.before_cursor_execute:
        listener(connection, cursor, sql, bound, None, False)
    try:
        cursor.execute(sql, bound)
        result = cursor.pgresult  # its status, not ``description``, which builds the columns' descriptions
        rows = cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, driver, cursor)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, bound, error, dialect.loaded_dbapi.Error,
                                  connection_invalidated=invalidated, dialect=dialect) from error
    for listener in dispatch.after_cursor_execute:
        listener(connection, cursor, sql, bound, None, False)
    return plan.rows(rows, cursor, dialect) if rows and plan is not None else rows


def send_savepoints_on_the_driver(engine: Engine) -> None:
    """Make ``engine``'s savepoints (``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``ROLLBACK TO SAVEPOINT``, which
    every plugin call that touches the database opens and closes) go the way of :func:`execute`, on psycopg;
    elsewhere leave them as they are. The dialect's own methods are replaced on this engine's dialect only."""
    dialect = engine.dialect
    if dialect.driver != "psycopg":
        return
    quoted: Callable[[object, str], str] = dialect.identifier_preparer.format_savepoint

    def sender(command: str) -> Callable[[Connection, str], None]:
        def send(connection: Connection, name: str) -> None:
            _run(connection, f"{command} {quoted(None, name)}", None, None)
        return send

    dialect.do_savepoint = sender("SAVEPOINT")  # type: ignore[method-assign, assignment]
    dialect.do_release_savepoint = sender("RELEASE SAVEPOINT")  # type: ignore[method-assign, assignment]
    dialect.do_rollback_to_savepoint = sender("ROLLBACK TO SAVEPOINT")  # type: ignore[method-assign, assignment]


def _plan(statement: Executable, keys: frozenset[str], dialect: Dialect) -> _Plan | None:
    """The driver's plan of ``statement`` given the parameters ``keys``, or ``None`` where it must go through
    SQLAlchemy.

    An ``INSERT`` or ``UPDATE`` without its own ``values`` writes the columns it is given (``keys``), and the
    columns with a Python default (``INSERT``) or update value (``UPDATE``) that are not given take it, as
    SQLAlchemy's execution computes them (every column default here is a value or a function of nothing).
    """
    if dialect.driver != "psycopg" or dialect.paramstyle != "pyformat":
        return None
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))  # type: ignore[attr-defined]
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.implicit_returning:
        return None  # parameters SQLAlchemy expands as it runs, or an INSERT's key it reads back unasked
    defaults = {column.key: column.default if column in compiled.insert_prefetch else column.onupdate
                for column in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    parameters = []
    for bind, name in compiled.bind_names.items():
        if bind.callable is not None:
            return None
        default = defaults.get(bind.key)
        value = bind.value if default is None else default.arg if default.is_scalar else _Computed(default.arg)
        parameters.append((bind.key, name, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    returns = compiled.returning or getattr(statement, "is_select", False)
    returned = tuple(column.type for column in statement.exported_columns) if returns else None  # type: ignore[attr-defined]
    return _Plan(compiled.string, tuple(parameters), returned)
