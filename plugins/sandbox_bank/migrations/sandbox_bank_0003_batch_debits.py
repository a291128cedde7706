"""sandbox_bank: batch debits (批量代扣) with partial collection

Each order remembers the merchant's batch it came in, whether the debit may collect less than asked when
the card holds less, and what such a partial debit collected.

Revision ID: sandbox_bank_0003
Revises: sandbox_bank_0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base

revision: str = "sandbox_bank_0003"
down_revision: str | None = "sandbox_bank_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sandbox_bank_orders", sa.Column("allow_partial", sa.Boolean(), server_default=sa.false(),
                                                   nullable=False))
    op.add_column("sandbox_bank_orders", sa.Column("collected", core.db.base.Amount(), nullable=True))
    op.add_column("sandbox_bank_orders", sa.Column("batch_id", sa.String(length=60), nullable=True))


def downgrade() -> None:
    for column in ("batch_id", "collected", "allow_partial"):
        op.drop_column("sandbox_bank_orders", column)
