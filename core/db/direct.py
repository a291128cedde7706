"""ORM objects written with one Core statement each, for the hot paths where the unit of work costs more
than the SQL.

A flush sorts the session's pending objects, builds their parameters through the mapper's events and
reads back what it must: for one or two objects it costs about three times the statements it sends.
:func:`insert_now` inserts a new object with one prepared ``INSERT ... RETURNING`` (the columns it was not
given come back: its id, server and Python defaults; :func:`insert_now_after` does it in the statement that
inserts the row it refers to, on PostgreSQL) and :func:`update_now` writes a persistent object's
changed columns with one ``UPDATE`` by primary key. Either way the object is left in the session as
persistent and clean, exactly as if it had been flushed: the identity map holds it, later changes to it
are flushed as usual, and nothing is written twice. Both statements are built once per class and set of
columns. They run on the session's connection at once, in its transaction: nothing is deferred to a flush,
and nothing pending in the session is flushed first (a row they refer to must be in the database already).

Records that nothing reads back before the transaction ends (state-change records, plugin-call records, a
bureau report, a payout account) go through :func:`insert_rows`: written at once, or, inside
:func:`batched_inserts`, kept and written together when the block ends: on PostgreSQL in one statement for
all of them (each table's rows an ``INSERT`` in the statement's ``WITH``, passed as one JSON document, and,
when :func:`update_now` runs in the block, that statement is its ``UPDATE``), elsewhere one multi-row
``INSERT`` per table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    CTE,
    JSON,
    Connection,
    Executable,
    Insert,
    Table,
    Text,
    Update,
    bindparam,
    column,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert

from core.db import driver

#: the inserts of :func:`insert_now` and :func:`insert_now_after`, by class, columns given and source
_INSERTS: dict[tuple[type, frozenset[str], CTE | None], tuple[ReturningInsert[Any], tuple[str, ...]]] = {}
_UPDATES: dict[tuple[type, frozenset[str]], Update] = {}
_S = TypeVar("_S", bound=Executable)
#: the statements carrying a batch, by shape (see :func:`_with_inserts`)
_CARRYING: dict[tuple[Any, ...], tuple[Any, list[list[tuple[str, Any]]]]] = {}
_CARRYING_SIZE = 256
_NOTHING = select(literal(1))
#: ``session.info`` key of the open :func:`batched_inserts` block's rows, by statement
_BATCH = "core.db.direct.batch"


def _mapper(obj: Any) -> Mapper[Any]:
    return cast(Mapper[Any], inspect(type(obj)))


def insert_now(session: Session, obj: Any) -> None:
    """Insert the new (transient) ``obj`` with one Core statement and add it to ``session`` as persistent.

    The columns ``obj`` was given are inserted; the others take their defaults in the statement and are read
    back into ``obj`` (``RETURNING``), so no attribute of it is left to load.
    """
    _insert(session, obj, None, {})


def insert_now_after(session: Session, obj: Any, source: CTE, parameters: Mapping[str, Any]) -> bool:
    """:func:`insert_now` in the statement that first runs ``source`` in its ``WITH`` (PostgreSQL only): a
    data-modifying CTE that inserts the row ``obj`` refers to and returns, under the names of ``obj``'s
    columns, the values ``obj`` takes from it (``INSERT INTO customers ... RETURNING id AS customer_id``).

    One round trip for both rows. ``parameters`` are ``source``'s; ``obj``'s own are named ``row_<column>``.

    Returns:
        Whether ``obj`` was inserted: when ``source`` returns no row (an ``ON CONFLICT DO NOTHING`` that
        met a row), nothing of ``obj`` is, and ``obj`` is left as it was.
    """
    return _insert(session, obj, source, parameters)


def _insert(session: Session, obj: Any, source: CTE | None, parameters: Mapping[str, Any]) -> bool:
    mapper = _mapper(obj)
    given = frozenset(prop.key for prop in mapper.column_attrs if prop.key in obj.__dict__)
    built = _INSERTS.get((type(obj), given, source))
    if built is None:
        built = _INSERTS[(type(obj), given, source)] = _built_insert(mapper, given, source)
    statement, missing = built
    prefix = "" if source is None else "row_"
    values = dict(parameters)
    values.update({prefix + mapper.column_attrs[key].columns[0].key: obj.__dict__[key] for key in given})
    rows = driver.execute(session.connection(), statement, values)
    if not rows:
        return False
    (row,) = rows
    for key, value in zip(missing, row, strict=True):
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    session.add(obj)
    return True


def _built_insert(mapper: Mapper[Any], given: frozenset[str],
                  source: CTE | None) -> tuple[ReturningInsert[Any], tuple[str, ...]]:
    """The insert of an object given the columns ``given`` (after ``source``), and the columns it returns."""
    table = cast(Table, mapper.local_table)
    missing = tuple(prop.key for prop in mapper.column_attrs if prop.key not in given)
    returned = [mapper.column_attrs[key].columns[0] for key in missing]
    if source is None:
        return insert(table).returning(*returned), missing
    keys = [mapper.column_attrs[key].columns[0].key for key in given]
    rows = select(*(bindparam(f"row_{key}", type_=table.c[key].type) for key in keys), *source.c)
    return insert(table).from_select([*keys, *(c.key for c in source.c)], rows).returning(*returned), missing


def update_now(session: Session, obj: Any) -> None:
    """Write the changed columns of the persistent ``obj`` with one Core ``UPDATE`` by its primary key; it is
    clean afterwards (a flush finds nothing to write for it)."""
    mapper = _mapper(obj)
    state = inspect(obj)
    # the attributes set since the object was loaded (an unchanged value written again is harmless)
    changed = frozenset(key for key in state.committed_state if key in mapper.column_attrs)
    if not changed:
        return
    (key_column,) = mapper.primary_key
    statement = _UPDATES.get((type(obj), changed))
    if statement is None:
        table = cast(Table, mapper.local_table)
        statement = _UPDATES[(type(obj), changed)] = update(table).where(key_column == bindparam("_key"))
    values = {mapper.column_attrs[key].columns[0].key: getattr(obj, key) for key in changed}
    connection = session.connection()
    driver.execute(connection, *_carrying_batch(session, connection, statement, {"_key": state.identity[0], **values}))
    session.expunge(obj)  # forget the history just written: the object goes back as if freshly loaded
    make_transient(obj)
    make_transient_to_detached(obj)
    session.add(obj)


def insert_rows(session: Session, statement: Insert, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with ``statement`` (an ``INSERT`` without ``RETURNING``) in the session's transaction:
    at once, or when the :func:`batched_inserts` block open on ``session`` ends."""
    batch: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_BATCH)
    if batch is None:
        session.connection().execute(statement, rows)
    else:
        batch.setdefault(statement, []).extend(rows)


@contextmanager
def batched_inserts(session: Session) -> Iterator[None]:
    """Keep the rows :func:`insert_rows` is given in this block and write them as it ends, one statement per
    ``INSERT`` (in the order each was first used), outside any savepoint opened and closed in the block.

    Only for rows nothing reads back before the block ends. When the block raises, its rows are dropped:
    the caller rolls its transaction back. A block inside another adds its rows to the outer one's.
    """
    if _BATCH in session.info:
        yield
        return
    batch: dict[Insert, list[dict[str, Any]]] = {}
    session.info[_BATCH] = batch
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if batch:
            driver.execute(connection, *_with_inserts(_NOTHING, {}, batch, connection.dialect))
        return
    for statement, rows in batch.items():
        connection.execute(statement, rows)


def _carrying_batch(session: Session, connection: Connection, statement: Update,
                    parameters: dict[str, Any]) -> tuple[Update, dict[str, Any]]:
    """``statement`` and its ``parameters``, carrying the rows of the :func:`batched_inserts` block open on
    ``session`` on PostgreSQL (they are written with it, and the block has nothing left to write)."""
    batch: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_BATCH)
    if not batch or connection.dialect.name != "postgresql":
        return statement, parameters
    carrying = _with_inserts(statement, parameters, batch, connection.dialect)
    batch.clear()
    return carrying


def _with_inserts(statement: _S, parameters: dict[str, Any], batch: dict[Insert, list[dict[str, Any]]],
                  dialect: Dialect) -> tuple[_S, dict[str, Any]]:
    """``statement`` with each table's rows of ``batch`` as an ``INSERT`` in its ``WITH`` (PostgreSQL runs every
    part of the statement on one snapshot; the tables are distinct and nothing reads them), and its
    parameters.

    A table's rows are one parameter, a JSON document that ``json_populate_recordset`` unpacks into the
    table's row type: a bound parameter costs SQLAlchemy and the driver far more than its share of a JSON
    text, and a batch has dozens. Each value goes through its column type's own conversion first (the PII is
    encrypted as it would be bound), dates and times as ISO 8601, decimals as their exact text. The statement
    is built once per shape of the batch (tables and columns), so SQLAlchemy compiles it once.

    Raises:
        TypeError: a batched column is of a JSON type (its ``None`` could not be told from JSON ``null``).
    """
    shape = (statement, *((insert_, tuple(rows[0])) for insert_, rows in batch.items()))
    built = _CARRYING.get(shape)
    if built is None:
        if len(_CARRYING) >= _CARRYING_SIZE:
            _CARRYING.clear()
        inserts, conversions = [], []
        for n, (insert_, rows) in enumerate(batch.items()):
            table = insert_.table
            keys = list(rows[0])
            types = [table.c[key].type for key in keys]
            if any(isinstance(type_, JSON) or isinstance(getattr(type_, "impl", None), JSON) for type_ in types):
                raise TypeError(f"{table.name}: a JSON column cannot be batched")
            conversions.append([(key, type_.dialect_impl(dialect).bind_processor(dialect))
                                for key, type_ in zip(keys, types, strict=True)])
            rows_of = text(f"SELECT {', '.join(f'r.{_quoted(key)}' for key in keys)} "
                           f"FROM json_populate_recordset(NULL::{_quoted(table.name)}, CAST(:b{n} AS json)) AS r"
                           ).bindparams(bindparam(f"b{n}", type_=Text())).columns(*(column(key) for key in keys))
            inserts.append(insert_.from_select(keys, rows_of).cte(f"batched_{n}"))
        built = _CARRYING[shape] = (statement.add_cte(*inserts), conversions)  # type: ignore[attr-defined]
    carrying, conversions = built
    values = dict(parameters)
    for n, (rows, converting) in enumerate(zip(batch.values(), conversions, strict=True)):
        values[f"b{n}"] = _json_text([{key: (convert(row[key]) if convert else row[key]) for key, convert in converting}
                                      for row in rows])
    return carrying, values


def _quoted(name: str) -> str:
    """``name`` as a PostgreSQL identifier, in double quotes."""
    return '"' + name.replace('"', '""') + '"'


#: orjson leaves dates, times and dataclasses to :func:`_json_value`: it would write an offset of whole minutes
#: only (``+05:30`` for ``+05:30:15``, as in zones' early local mean times) and a dataclass's fields
_BATCH_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_text(rows: list[dict[str, Any]]) -> str:
    """``rows`` as JSON text: orjson, five times faster than the standard library here, and the standard library
    for what orjson refuses (an integer beyond 64 bits, a string with a lone surrogate), so the text means what
    ``json.dumps`` with :func:`_json_value` made of it. orjson also writes a UUID (as its text) and an enum (as
    its value), which the standard library refuses; a float's NaN and infinities become ``null`` where
    ``json.dumps`` wrote tokens PostgreSQL's JSON parser rejects (no batched column holds such a float)."""
    try:
        return orjson.dumps(rows, default=_json_value, option=_BATCH_JSON).decode()
    except orjson.JSONEncodeError:
        return json.dumps(rows, default=_json_value, ensure_ascii=False)


def _json_value(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot batch a {type(value).__name__}")
