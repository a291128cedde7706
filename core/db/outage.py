"""The database away: which errors mean "not now" rather than "no", and which mean a connection was lost.

A request or a task that meets the database unreachable (the server restarting or shutting down, a
connection refused, the pool exhausted) or its connection cut (a backend terminated by an operator, a
network fault) has been refused nothing by the rules: the same request succeeds once the database is back.
:func:`unavailable` names those errors, so that every face answers them the same way (the API: 503 with
``Retry-After``). Among them, :func:`connection_lost` is the case where a transaction was under way and the
server rolled it back when its connection went (or committed it, when the commit was the statement
cut): SQLAlchemy has invalidated the connection, and the pool hands out a new one next time, so the work
can be done again at once, from its beginning, by whoever owns the transaction.

Every :class:`sqlalchemy.exc.OperationalError` counts: psycopg raises it for a refused or broken connection,
for ``57P01`` (terminated by an administrator), ``57P03`` (starting up) and for the errors that ask for a
retry by their class (``40001`` serialization failure, ``40P01`` deadlock, ``55P03`` lock not available).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` cut the connection it ran on (SQLAlchemy invalidated it)."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not do the work now, for no fault of the request."""
    return connection_lost(error) or isinstance(error, (OperationalError, InterfaceError, PoolTimeoutError))
