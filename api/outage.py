"""The API while its database connection is lost: run the request once more on a new one.

A connection lost under a request (:func:`core.db.outage.connection_lost`: a backend terminated, a pooled
connection the server closed while it sat idle, the server restarted since) is not the client's problem.
The server rolled the request's transaction back when the connection went (or committed it, when the cut
came during the commit), SQLAlchemy invalidated the connection and the pool hands out a new one, so
:func:`once_more_if_connection_lost` runs the work again, from the top: the key's lookup
(:func:`api.auth.current_client`) and the views' transactions (:mod:`api.transactions`). A second loss, or a
database that is away, reaches :mod:`api.problems` as a 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from logging import getLogger
from typing import TypeVar

from flask import request

from core.db.outage import connection_lost
from loanfactory.database import db_session

Result = TypeVar("Result")
logger = getLogger(__name__)


def once_more_if_connection_lost(work: Callable[[], Result]) -> Result:
    """``work()``; when it lost its database connection, roll the request's session back and run it again once
    (the pool hands out a new connection). ``work`` must do nothing a second run would repeat: one transaction
    of the request's session, and a lost commit either replayed by its key or answered as a 503."""
    try:
        return work()
    except Exception as error:
        if not connection_lost(error):
            raise
        logger.warning("the database connection was lost; running %s %s once more", request.method, request.path)
        db_session().rollback()
    return work()
