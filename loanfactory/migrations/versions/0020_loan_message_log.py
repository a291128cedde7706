"""the borrower message log (reminders, due-day, debit receipts and failures, overdue, paid off)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 21:00:00

``loan_messages``: one row per message to a loan's borrower, unique by ``key`` (also the notification's
request id), with when it may be sent, the deferrals (outside the hours, over the daily cap), and the
outcome. The table is new: nothing to migrate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("period", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deferrals", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("provider_reference", sa.String(length=80), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_loan_messages_due", "loan_messages", ["state", "send_after"])
    op.create_index("ix_loan_messages_loan", "loan_messages", ["loan_id", "id"])
    op.create_index("ix_loan_messages_customer_id", "loan_messages", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_loan_messages_customer_id", table_name="loan_messages")
    op.drop_index("ix_loan_messages_loan", table_name="loan_messages")
    op.drop_index("ix_loan_messages_due", table_name="loan_messages")
    op.drop_table("loan_messages")
