"""eod_runs: when each business date's end-of-day partitions were sent to the workers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:30:00

One row per business date sent to Celery workers (:mod:`core.eod.runs`): the partitions planned, when they
were sent (or last resent) and how often the missing ones were resent; progress and stalls are read from it
with ``eod_step_runs``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eod_runs",
        sa.Column("business_date", sa.Date(), primary_key=True),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resent", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("eod_runs")
