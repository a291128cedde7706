"""what names a person encrypted at rest: contracts, signatures, stored responses, the sandbox bank

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 12:00:00

The contract PDFs (``application_contracts.content``, ``esign_documents.content``), the signature evidence
(``application_contracts.signatures``, ``esign_signatures.signer_name``), the stored idempotent responses
(``idempotency_records.response_body``) and the sandbox bank's holders and account numbers become encrypted
columns (:mod:`core.customers.pii`): the columns change type where the encrypted form needs text, and every
existing value is encrypted in place with the active ``LOANFACTORY_PII_KEY`` (so run it with the production
key ring set). The downgrade decrypts them back.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.customers.pii import EncryptedBytes, EncryptedJSON, EncryptedString

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
#: (table, key column, column, the column's type before, its encrypted type)
COLUMNS: tuple[tuple[str, str, str, Any, Any], ...] = (
    ("application_contracts", "application_id", "content", sa.LargeBinary(),
     EncryptedBytes("application_contracts.content")),
    ("application_contracts", "application_id", "signatures", sa.JSON(),
     EncryptedJSON("application_contracts.signatures")),
    ("esign_documents", "id", "content", sa.LargeBinary(), EncryptedBytes("esign_documents.content")),
    ("esign_signatures", "id", "signer_name", sa.String(length=200), EncryptedString("esign_signatures.signer_name")),
    ("idempotency_records", "id", "response_body", sa.Text(), EncryptedString("idempotency_records.response_body")),
    ("sandbox_bank_orders", "id", "account_number", sa.String(length=40),
     EncryptedString("sandbox_bank_orders.account_number")),
    ("sandbox_bank_orders", "id", "holder_name", sa.String(length=120),
     EncryptedString("sandbox_bank_orders.holder_name")),
    ("sandbox_bank_cards", "card_number", "holder_name", sa.String(length=120),
     EncryptedString("sandbox_bank_cards.holder_name")),
)


class _JsonText(sa.types.TypeDecorator[Any]):
    """A JSON document kept as its text: how ``application_contracts.signatures`` reads and writes between its
    ``JSON`` and its encrypted form."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def _retype(table: str, column: str, old: Any, new: Any) -> None:
    """``column`` from the storage type ``old`` to ``new`` (nothing when the two are stored alike)."""
    if type(old) is type(new):
        return
    dialect = op.get_bind().dialect.name
    using: dict[str, Any] = {"postgresql_using": f"{column}::{'json' if isinstance(new, sa.JSON) else 'text'}"} \
        if dialect == "postgresql" and sa.JSON in (type(old), type(new)) else {}
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column, type_=new, existing_type=old, **using)


def _rewrite(table: str, key: str, column: str, read: Any, write: Any) -> None:
    """Every value of ``column``, read through the type ``read`` and written back through ``write``, a batch of
    :data:`BATCH` rows at a time in key order (a large table is never held in memory whole)."""
    bind = op.get_bind()
    reader = sa.table(table, sa.column(key), sa.column(column, read))
    writer = sa.table(table, sa.column(key), sa.column(column, write))
    change = sa.update(writer).where(writer.c[key] == sa.bindparam("row_key")).values(
        {column: sa.bindparam("new_value", type_=write)})
    after: Any = None
    while True:
        query = sa.select(reader.c[key], reader.c[column]).where(reader.c[column].is_not(None))
        if after is not None:
            query = query.where(reader.c[key] > after)
        rows = bind.execute(query.order_by(reader.c[key]).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(change, [{"row_key": row_key, "new_value": value} for row_key, value in rows])
        after = rows[-1][0]


def _clear(old: Any) -> Any:
    """The type that reads and writes a column's clear values once its storage is the encrypted one's."""
    return _JsonText() if isinstance(old, sa.JSON) else old


def upgrade() -> None:
    for table, key, column, old, new in COLUMNS:
        _retype(table, column, old, new.impl)
        _rewrite(table, key, column, _clear(old), new)


def downgrade() -> None:
    for table, key, column, old, new in COLUMNS:
        _rewrite(table, key, column, new, _clear(old))
        _retype(table, column, new.impl, old)
