"""batch disbursement: the bank files of payouts and their lines

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:20:00

The tables of :mod:`core.origination.batches`: each batch (channel, maker, number of lines, total, the file's
SHA-256) and, per line, the payout order it carries. New tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disbursement_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("total", core.db.base.Amount(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disbursement_batches")),
    )
    op.create_table(
        "disbursement_batch_lines",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["disbursement_batches.id"],
                                name=op.f("fk_disbursement_batch_lines_batch_id_disbursement_batches")),
        sa.ForeignKeyConstraint(["order_id"], ["disbursement_orders.id"],
                                name=op.f("fk_disbursement_batch_lines_order_id_disbursement_orders")),
        sa.PrimaryKeyConstraint("batch_id", "line", name=op.f("pk_disbursement_batch_lines")),
        sa.UniqueConstraint("order_id", name=op.f("uq_disbursement_batch_lines_order_id")),
    )


def downgrade() -> None:
    op.drop_table("disbursement_batch_lines")
    op.drop_table("disbursement_batches")
