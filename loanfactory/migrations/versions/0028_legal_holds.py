"""legal holds on customers' and enterprises' records

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:40:00

``legal_holds``: a hold on an individual's or an enterprise's records (reason, who placed it and when, who
released it, when and why); while open, the retention purge keeps everything of theirs. A new table only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = (("customer_id", "customers"), ("enterprise_id", "enterprises"))


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=True) for column, _table in REFERENCES),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name=op.f("ck_legal_holds_subject")),
        *(sa.ForeignKeyConstraint([column], [f"{table}.id"], name=op.f(f"fk_legal_holds_{column}_{table}"))
          for column, table in REFERENCES),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    for column, _table in REFERENCES:
        op.create_index(op.f(f"ix_legal_holds_{column}"), "legal_holds", [column], unique=False)


def downgrade() -> None:
    op.drop_table("legal_holds")
