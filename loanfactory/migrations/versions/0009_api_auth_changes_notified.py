"""changes to the API keys and the product versions notified, on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 02:00:00

A statement trigger on ``api_clients`` and on ``product_versions`` notifies
:data:`core.channels.key_cache.CHANGES_CHANNEL` on every insert, update, delete and truncate, so that
the API processes' key caches (:class:`core.channels.key_cache.KeyCache`) are emptied when such a change
commits. The statements replace what exists: a database migrated from 0001 may hold the trigger on
``product_versions`` already (0001 runs that table's ``after_create`` DDL of the models of its day).
SQLite has no ``NOTIFY`` and caches nothing.
"""

from collections.abc import Sequence

from alembic import op

from core.channels.key_cache import NOTIFY_FUNCTION, notify_statements, trigger_name

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("api_clients", "product_versions")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in notify_statements(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {NOTIFY_FUNCTION}()")
