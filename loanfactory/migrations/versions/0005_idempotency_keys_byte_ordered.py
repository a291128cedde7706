"""journal idempotency keys compared byte by byte on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:30:00

``ledger_entries.idempotency_key`` gets ``COLLATE "C"`` on PostgreSQL (:func:`core.db.base.byte_ordered`): its
unique index is searched by every posted entry, and the database's linguistic collation made each of
those comparisons a ``strcoll`` call. PostgreSQL rebuilds the index (a full pass over the journal, under
an exclusive lock: run it in a maintenance window on a large book). Keys stay equal to what they were, so
nothing else changes. SQLite has no collation to change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _collate(collation: str | None) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("ledger_entries", "idempotency_key", type_=sa.String(200, collation=collation),
                        existing_nullable=False)


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
