"""Idempotency records: the first response to a channel's ``Idempotency-Key``, kept for replays.

A record is unique per (channel, key). The caller claims the key by inserting the record at the start of
the operation's own transaction (:func:`claim`); the database's unique constraint does the arbitration:
a concurrent request with the same key blocks on PostgreSQL until the first transaction ends, then fails
its insert and reads the first response (:func:`find`). If the first request fails and rolls back, its
claim goes with it and the key is free again. Only successful responses are kept, so a request refused
for bad input can be corrected and retried under the same key. A response names the borrower (an application,
a signed contract), so the stored body is encrypted at rest (:class:`core.customers.pii.EncryptedString`).

Every creating POST claims and completes a record, so both are single Core statements built once (the
ORM's unit of work would cost more than the statements).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    Select,
    String,
    Table,
    UniqueConstraint,
    Update,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.customers.pii import EncryptedString
from core.db import driver
from core.db.base import Base
from core.errors import InvalidArgumentError

MAX_KEY_LENGTH = 255


def _now() -> datetime:
    return datetime.now(UTC)


class IdempotencyRecord(Base):
    """One channel's idempotency key, the fingerprint of its request and the response it got."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(EncryptedString("idempotency_records.response_body"),
                                                      nullable=True)
    location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request line and body: the same key with another request gets a 409."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b" ")
    digest.update(path.encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def check_key(key: str | None) -> str:
    """The key, stripped, or :class:`InvalidArgumentError` naming the header when it is absent or too long."""
    if key is None or not key.strip():
        raise InvalidArgumentError("Idempotency-Key: this request creates or moves something; send an "
                                   "Idempotency-Key header (a UUID is fine)", field="header:Idempotency-Key")
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgumentError(f"Idempotency-Key: at most {MAX_KEY_LENGTH} characters",
                                   field="header:Idempotency-Key", value=key)
    return key


def find(session: Session, client_id: int, key: str) -> IdempotencyRecord | None:
    """The stored record of ``key`` for ``client_id``, if any."""
    return session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key)
    ).one_or_none()


_RECORDS = cast(Table, IdempotencyRecord.__table__)
_CLAIM = insert(_RECORDS).returning(_RECORDS.c.id)
_COMPLETE = update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))
_COMPLETING: dict[Select[tuple[bool]], Update] = {}


def claim(session: Session, client_id: int, key: str, request_fingerprint: str) -> int | None:
    """Insert the record for ``key`` in the caller's transaction and return its id.

    Returns ``None`` when another request already holds the key: the caller's transaction has then been
    rolled back and the caller should :func:`find` the first request's record.
    """
    try:
        ((record_id,),) = driver.execute(session.connection(), _CLAIM, {"client_id": client_id, "key": key,
                                                                         "fingerprint": request_fingerprint})
    except IntegrityError:
        session.rollback()
        return None
    return int(record_id)


def complete(session: Session, record_id: int, status_code: int, body: str, location: str | None,
             *, asking: Select[tuple[bool]] | None = None, parameters: Mapping[str, Any] | None = None) -> bool | None:
    """Store the response the first request produced in the claimed record ``record_id``.

    Args:
        asking: a one-value boolean query (with its ``parameters``) to answer in the same statement, one round
            trip less for a caller that asks it just before committing (the API asks whether the webhook
            dispatcher has work).

    Returns:
        The answer to ``asking``, when given.
    """
    values = {"record_id": record_id, "status_code": status_code, "response_body": body, "location": location}
    if asking is None:
        driver.execute(session.connection(), _COMPLETE, values)
        return None
    statement = _COMPLETING.get(asking)
    if statement is None:  # built once per question: building a statement costs more than running it
        statement = _COMPLETING[asking] = _COMPLETE.returning(asking.scalar_subquery())
    ((answer,),) = driver.execute(session.connection(), statement, {**values, **(parameters or {})})
    return bool(answer)
