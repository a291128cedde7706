"""closed accounting periods, refused by the database

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 21:40:00

``ledger_closed_periods`` holds the months finance has closed (``core.finance.period_close``). On PostgreSQL a
statement trigger on ``ledger_entries`` refuses any insert whose business date falls in one
(``check_violation``), raw SQL included; the function and trigger are frozen here as
``core.ledger.periods.POSTGRESQL_PERIOD_DDL`` wrote them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest date;
    latest date;
    bad record;
BEGIN
    SELECT min(business_date), max(business_date) INTO earliest, latest FROM inserted;
    IF earliest IS NULL OR NOT EXISTS (SELECT 1 FROM ledger_closed_periods
                                       WHERE first_day <= latest AND last_day >= earliest) THEN
        RETURN NULL;
    END IF;
    SELECT i.idempotency_key, i.business_date, p.first_day, p.last_day INTO bad
        FROM inserted i JOIN ledger_closed_periods p ON i.business_date BETWEEN p.first_day AND p.last_day LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is dated %, inside the closed accounting period % to %',
            bad.idempotency_key, bad.business_date, bad.first_day, bad.last_day
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""

REFUSE_TRIGGER = """
CREATE TRIGGER ledger_entries_outside_closed_periods AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_closed_period()
"""


def upgrade() -> None:
    op.create_table(
        "ledger_closed_periods",
        sa.Column("first_day", sa.Date(), primary_key=True),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_FUNCTION)
        op.execute(REFUSE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entries_outside_closed_periods ON ledger_entries")
        op.execute("DROP FUNCTION ledger_refuse_closed_period()")
    op.drop_table("ledger_closed_periods")
