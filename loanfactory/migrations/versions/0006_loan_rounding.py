"""each loan's rounding mode in a column of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:45:00

``loans.rounding`` holds the schedule's rounding mode from the loan's terms (``Loan.rounding``, kept in step
by the model whenever the terms are set), so the end-of-day's SQL path reads a short column
instead of parsing each loan's terms every day. Existing loans get it from their terms.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the rounding mode inside the terms' JSON, per dialect
FROM_TERMS = {"postgresql": "json_extract_path_text(terms, 'schedule', 'rounding')",
              "sqlite": "json_extract(terms, '$.schedule.rounding')"}


def upgrade() -> None:
    op.add_column("loans", sa.Column("rounding", sa.String(length=20), nullable=True))
    op.execute(f"UPDATE loans SET rounding = {FROM_TERMS[op.get_bind().dialect.name]}")


def downgrade() -> None:
    op.drop_column("loans", "rounding")
