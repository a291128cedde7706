"""example_rules: the signed webhooks

The first revision of the ``example_rules`` branch. It depends on the core's first revision only (the
table refers to no core table); a revision needing a newer core table would depend on that revision.

Revision ID: example_rules_0001
Revises:
Depends on: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "example_rules_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("example_rules",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    op.create_table(
        "example_rules_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("to_state", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_rules_webhooks")),
    )
    op.create_index(op.f("ix_example_rules_webhooks_signed_at"), "example_rules_webhooks", ["signed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_example_rules_webhooks_signed_at"), table_name="example_rules_webhooks")
    op.drop_table("example_rules_webhooks")
