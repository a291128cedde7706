"""Transaction boundaries of API views: one commit per request, and ``Idempotency-Key`` on creating POSTs.

Views never commit. :func:`transactional` commits a successful response and rolls back anything else, but
for a :class:`~core.errors.RecordedRefusal`: the kernel wrote down only the refusal (a payment callback
flagged for reconciliation), which is committed before the refusal is answered.
:func:`idempotent` does the same around an idempotency claim (see :mod:`core.channels.idempotency`):
the key is claimed first (one INSERT, the common case of a new key costs no lookup); when it is taken, a
replay of a completed request returns the stored response with ``Idempotent-Replayed: true``, the same key
with a different request gets a 409, and a concurrent duplicate waits for the first request's transaction
(the unique constraint blocks it) and then answers with the first response. The statement that stores the
response also asks whether the webhook dispatcher has work (one round trip for both).

A view whose database connection is lost runs once more on a new one (:mod:`api.outage`). For an idempotent
request that is exactly the client's own retry under the same key, even when the connection went during the
commit (if the commit went through, the claim finds it and the stored response is replayed); a
transactional view is run again only when its commit was not under way: a commit cut off is a 503.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from sqlalchemy.orm import Session

from api.auth import current_client
from api.outage import once_more_if_connection_lost
from api.problems import ApiProblem, database_unavailable
from api.webhooks import after_write, dispatch_question, dispatch_wanted
from core.channels import idempotency
from core.channels.idempotency import IdempotencyRecord
from core.db.outage import connection_lost
from core.errors import RecordedRefusal
from loanfactory.database import db_session

View = Callable[..., Any]


def _commit(session: Session, dispatch: bool | None = None) -> None:
    """Commit the request's write, then run the webhook dispatcher if it has work (``dispatch``: the answer
    when the caller asked already)."""
    if dispatch is None:
        dispatch = dispatch_wanted(session)
    session.commit()
    if dispatch:
        after_write()


def _commit_once(session: Session) -> None:
    """:func:`_commit`, for a view that is not run again once its commit was under way: a connection lost in
    the commit (committed or not) is a 503, and the client decides."""
    try:
        _commit(session)
    except Exception as error:
        if connection_lost(error):
            raise database_unavailable() from error
        raise


def transactional(view: View) -> View:
    """Commit when the view answers below 400, roll back otherwise (errors included, but for the record of a
    :class:`~core.errors.RecordedRefusal`, committed before it is answered)."""

    def attempt(*args: Any, **kwargs: Any) -> Response:
        session = db_session()
        try:
            response = make_response(view(*args, **kwargs))
        except RecordedRefusal:
            _commit_once(session)
            raise
        except BaseException:
            session.rollback()
            raise
        if response.status_code < 400:
            _commit_once(session)
        else:
            session.rollback()
        return response

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return once_more_if_connection_lost(lambda: attempt(*args, **kwargs))

    return wrapper


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> Response:
    if record.fingerprint != request_fingerprint:
        raise ApiProblem(409, "Idempotency key reused",
                         "this Idempotency-Key was used for a different request; use a new key",
                         slug="idempotency-key-reused",
                         errors=[("header:Idempotency-Key", "already used with another request body or path")])
    response = Response(record.response_body or "", status=record.status_code or 200, mimetype="application/json")
    if record.location:
        response.headers["Location"] = record.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: View) -> View:
    """Require ``Idempotency-Key``, replay stored responses and commit the first one with its record; run
    once more when the connection was lost, even in the commit (the key makes a second run a replay)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return once_more_if_connection_lost(lambda: attempt(*args, **kwargs))

    def attempt(*args: Any, **kwargs: Any) -> Response:
        client = current_client()
        key = idempotency.check_key(request.headers.get("Idempotency-Key"))
        request_fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data())
        session = db_session()
        record_id = idempotency.claim(session, client.id, key, request_fingerprint)
        if record_id is None:
            existing = idempotency.find(session, client.id, key)
            if existing is None:  # the holder rolled back between our insert and this read
                raise ApiProblem(409, "Request in progress", "retry with the same Idempotency-Key",
                                 slug="idempotency-in-progress")
            return _replay(existing, request_fingerprint)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            session.rollback()
            raise
        if response.status_code >= 400:
            session.rollback()
            return response
        asking, parameters = dispatch_question() or (None, None)
        dispatch = idempotency.complete(session, record_id, response.status_code, response.get_data(as_text=True),
                                        response.headers.get("Location"), asking=asking, parameters=parameters)
        _commit(session, bool(dispatch))
        return response

    return wrapper
