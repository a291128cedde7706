"""disbursement_orders.value_date and booked_on: a late settlement booked on the open date

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 20:40:00

A payout whose settlement date was closed by end-of-day before the bank's callback came is booked on the
first open business date (:mod:`core.origination.late`); the order keeps both dates. Orders settled before
this revision were booked on their settlement date: both columns take their loan's disbursement date.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("disbursement_orders") as batch:
        batch.add_column(sa.Column("value_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("booked_on", sa.Date(), nullable=True))
    op.execute("UPDATE disbursement_orders SET value_date = (SELECT disbursed_on FROM loans WHERE loans.id = "
               "disbursement_orders.loan_id), booked_on = (SELECT disbursed_on FROM loans WHERE loans.id = "
               "disbursement_orders.loan_id) WHERE loan_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("disbursement_orders") as batch:
        batch.drop_column("booked_on")
        batch.drop_column("value_date")
