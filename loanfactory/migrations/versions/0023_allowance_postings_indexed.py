"""the loan-loss allowance's postings indexed alone

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 21:20:00

A provision run (``core.finance.provision_posting``) reads every posting on account 1304, the loan-loss
allowance (provisions, write-offs and recoveries: a few lines a month); a partial index of those postings
alone lets it read them without scanning the journal, and costs the other postings nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINES = "account = '1304'"


def upgrade() -> None:
    op.create_index("ix_ledger_postings_allowance", "ledger_postings", ["entry_id"],
                    postgresql_where=sa.text(LINES), sqlite_where=sa.text(LINES))


def downgrade() -> None:
    op.drop_index("ix_ledger_postings_allowance", table_name="ledger_postings")
