"""each loan's non-accrual status

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 21:00:00

``loans.non_accrual_since`` is the date end-of-day put the loan on non-accrual (``core.loans.nonaccrual``), or
``NULL`` while it accrues. Existing loans start on accrual: the next end-of-day puts every loan past the
policy's threshold on non-accrual and suspends its interest and penalty receivable then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("non_accrual_since", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("non_accrual_since")
