"""ORM objects written with one Core statement each, for the hot paths where the unit of work costs more
than the SQL.

A flush sorts the session's pending objects, builds their parameters through the mapper's events and
reads back what it must: for one or two objects it costs about three times the statements it sends.
:func:`insert_now` inserts a new object with one prepared ``INSERT ... RETURNING`` (the columns it was not
given come back: its id, server and Python defaults) and :func:`update_now` writes a persistent object's
changed columns with one ``UPDATE`` by primary key. Either way the object is left in the session as
persistent and clean, exactly as if it had been flushed: the identity map holds it, later changes to it
are flushed as usual, and nothing is written twice. Both statements are built once per class and set of
columns. They run on the session's connection at once, in its transaction: nothing is deferred to a flush,
and nothing pending in the session is flushed first (a row they refer to must be in the database already).

Records that nothing reads back before the transaction ends (state-change records, plugin-call records, a
bureau report, a payout account) go through :func:`insert_rows`: written at once, or, inside
:func:`batched_inserts`, kept and written together when the block ends: on PostgreSQL in one statement for
all of them (each table's rows one multi-row ``INSERT`` in the statement's ``WITH``, and, when
:func:`update_now` runs in the block, that statement is its ``UPDATE``), elsewhere one multi-row ``INSERT``
per table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    Executable,
    Insert,
    Table,
    Update,
    bindparam,
    insert,
    inspect,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapper, Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert

_INSERTS: dict[tuple[type, frozenset[str]], tuple[ReturningInsert[Any], tuple[str, ...]]] = {}
_UPDATES: dict[tuple[type, frozenset[str]], Update] = {}
_S = TypeVar("_S", bound=Executable)
#: the statements carrying a batch, by shape (see :func:`_with_inserts`)
_CARRYING: dict[tuple[Any, ...], Any] = {}
_CARRYING_SIZE = 256
_NOTHING = select(literal(1))
#: ``session.info`` key of the open :func:`batched_inserts` block's rows, by statement
_BATCH = "core.direct.batch"


def _mapper(obj: Any) -> Mapper[Any]:
    return cast(Mapper[Any], inspect(type(obj)))


def insert_now(session: Session, obj: Any) -> None:
    """Insert the new (transient) ``obj`` with one Core statement and add it to ``session`` as persistent.

    The columns ``obj`` was given are inserted; the others take their defaults in the statement and are read
    back into ``obj`` (``RETURNING``), so no attribute of it is left to load.
    """
    mapper = _mapper(obj)
    given = frozenset(prop.key for prop in mapper.column_attrs if prop.key in obj.__dict__)
    built = _INSERTS.get((type(obj), given))
    if built is None:
        table = cast(Table, mapper.local_table)
        missing = tuple(prop.key for prop in mapper.column_attrs if prop.key not in given)
        statement = insert(table).returning(*(mapper.column_attrs[key].columns[0] for key in missing))
        built = _INSERTS[(type(obj), given)] = (statement, missing)
    statement, missing = built
    row = session.connection().execute(
        statement, {mapper.column_attrs[key].columns[0].key: obj.__dict__[key] for key in given}).one()
    for key, value in zip(missing, row, strict=True):
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    session.add(obj)


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
    connection.execute(*_carrying_batch(session, connection, statement, {"_key": state.identity[0], **values}))
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
            connection.execute(*_with_inserts(_NOTHING, {}, batch))
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
    carrying = _with_inserts(statement, parameters, batch)
    batch.clear()
    return carrying


def _with_inserts(statement: _S, parameters: dict[str, Any],
                  batch: dict[Insert, list[dict[str, Any]]]) -> tuple[_S, dict[str, Any]]:
    """``statement`` with each table's rows of ``batch`` as a multi-row ``INSERT`` in its ``WITH`` (PostgreSQL
    runs every part of the statement on one snapshot; the tables are distinct and nothing reads them), and
    its parameters. The statement is built once per shape of the batch (tables, rows, columns), with named
    parameters, so SQLAlchemy compiles it once."""
    shape = (statement, *((insert_, len(rows), tuple(rows[0])) for insert_, rows in batch.items()))
    built = _CARRYING.get(shape)
    if built is None:
        if len(_CARRYING) >= _CARRYING_SIZE:
            _CARRYING.clear()
        inserts = []
        for n, (insert_, rows) in enumerate(batch.items()):
            # INSERT ... SELECT of the rows' parameters (SQLAlchemy compiles a multi-row VALUES again each time)
            columns = insert_.table.c
            keys = list(rows[0])
            selects = [select(*(bindparam(f"b{n}_{r}_{key}", type_=columns[key].type) for key in keys))
                       for r in range(len(rows))]
            inserts.append(insert_.from_select(keys, union_all(*selects) if len(selects) > 1 else selects[0])
                           .cte(f"batched_{n}"))
        built = _CARRYING[shape] = statement.add_cte(*inserts)  # type: ignore[attr-defined]
    values = dict(parameters)
    for n, rows in enumerate(batch.values()):
        for r, row in enumerate(rows):
            values.update({f"b{n}_{r}_{key}": value for key, value in row.items()})
    return built, values
