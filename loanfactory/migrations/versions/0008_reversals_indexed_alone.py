"""only reversals in the index that keeps an entry from being reversed twice, on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 20:40:00

``ledger_entries.reverses_entry_id`` is empty on all but the reversing entries, yet its unique index took an
entry (NULL) for every entry posted and its foreign key queued a check per inserted row. On PostgreSQL the
index becomes partial (``WHERE reverses_entry_id IS NOT NULL``: the same rule, reversals only) and the
reference moves into the commit-time balance check with the journal's other references
(:data:`core.ledger.models.REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON`). SQLite keeps its constraint and key.
Downgrading restores them and leaves the function, whose extra check agrees with the key.
"""

from collections.abc import Sequence

from alembic import op

from core.ledger.models import BALANCE_FUNCTION_DDL, REVERSAL_ONCE, REVERSAL_ONCE_INDEX

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCE = "fk_ledger_entries_reverses_entry_id_ledger_entries"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().execute(BALANCE_FUNCTION_DDL)
        op.drop_constraint(REFERENCE, "ledger_entries", type_="foreignkey")
        op.drop_constraint(REVERSAL_ONCE, "ledger_entries", type_="unique")
        op.create_index(REVERSAL_ONCE_INDEX, "ledger_entries", ["reverses_entry_id"], unique=True,
                        postgresql_where="reverses_entry_id IS NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(REVERSAL_ONCE_INDEX, "ledger_entries")
        op.create_unique_constraint(REVERSAL_ONCE, "ledger_entries", ["reverses_entry_id"])
        op.create_foreign_key(REFERENCE, "ledger_entries", "ledger_entries", ["reverses_entry_id"], ["id"])
