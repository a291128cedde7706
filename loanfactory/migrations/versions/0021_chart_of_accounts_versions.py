"""the versions of the lender's chart of accounts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 20:40:00

``gl_chart_versions`` holds each loaded version of the chart of accounts (``core.finance.charts``) as its
whole JSON document; until one is loaded the shipped ``product_configs/chart/chart_of_accounts.json`` is in
force, so no row is written here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gl_chart_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("loaded_by", sa.String(120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gl_chart_versions")
