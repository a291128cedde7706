"""Writing many rows at once: UPDATE by primary key, upserts, and inserts that leave out what exists.

On PostgreSQL the rows are streamed with ``COPY`` into a temporary table and applied with one
``UPDATE .. FROM`` (a million rows in seconds, where one round trip per row would take minutes). On
SQLite, which serialises writers anyway, and for small batches, they go through one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_COUNTER = [0]
COPY_THRESHOLD = 200


def bulk_update(session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str = "id") -> int:
    """Set the columns in each row (all rows carry the same columns) where ``key`` matches; returns len(rows)."""
    if not rows:
        return 0
    columns = [name for name in rows[0] if name != key]
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _update_with_copy(session, table, rows, key, columns)
    else:
        values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in columns}
        statement = update(table).where(table.c[key] == bindparam("k_key")).values(values)
        session.execute(statement, [{"k_key": row[key], **{f"v_{n}": row[n] for n in columns}} for row in rows])
    return len(rows)


def _update_with_copy(session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str,
                      columns: list[str]) -> None:
    _COUNTER[0] += 1
    temp = f"_bulk_{table.name}_{_COUNTER[0]}"
    names = [key, *columns]
    connection = session.connection()
    connection.execute(text(f'CREATE TEMP TABLE "{temp}" ON COMMIT DROP AS '
                            f'SELECT {", ".join(names)} FROM "{table.name}" WITH NO DATA'))
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f'COPY "{temp}" ({", ".join(names)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
    assignments = ", ".join(f"{name} = s.{name}" for name in columns)
    connection.execute(text(f'UPDATE "{table.name}" AS t SET {assignments} FROM "{temp}" AS s '
                            f"WHERE t.{key} = s.{key}"))
    connection.execute(text(f'DROP TABLE "{temp}"'))


def insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]], unique: Sequence[str],
               chunk: int = 1000) -> int:
    """Insert ``rows``, leaving out each whose ``unique`` columns are taken (``ON CONFLICT DO NOTHING``, on
    PostgreSQL and SQLite alike); returns how many were new (the rows given, for a driver that cannot count)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    written = 0
    for start in range(0, len(rows), chunk):
        part = list(rows[start:start + chunk])
        count = int(getattr(session.execute(insert(table).on_conflict_do_nothing(index_elements=list(unique)),
                                            part), "rowcount", -1))
        written += count if count >= 0 else len(part)
    return written
