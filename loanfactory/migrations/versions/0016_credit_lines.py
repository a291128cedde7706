"""credit lines: lines, customer total limits, channel sub-limits, drawdowns and line events

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:20:00

The tables of :mod:`core.credit_lines.models`: a granted line per approved credit-line application, the
customer's total limit (the row a drawdown locks first), a channel's sub-limit on a line, each drawdown with
the application its loan is booked from, and the events of a line's life. New tables only: nothing existing
changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base
import core.loans.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("product_code", sa.String(length=60), nullable=False),
        sa.Column("product_version_id", sa.Integer(), nullable=False),
        sa.Column("limit", core.db.base.Amount(), nullable=False),
        sa.Column("annual_rate", core.loans.models.Rate(), nullable=False),
        sa.Column("revolving", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_credit_lines_application_id_applications")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_credit_lines_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_lines")),
        sa.UniqueConstraint("application_id", name=op.f("uq_credit_lines_application_id")),
    )
    op.create_index(op.f("ix_credit_lines_customer_id"), "credit_lines", ["customer_id"])
    op.create_index("ix_credit_lines_state_expiry", "credit_lines", ["state", "expires_on"])
    op.create_table(
        "customer_limits",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("total_limit", core.db.base.Amount(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_limits_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_limits")),
    )
    op.create_table(
        "credit_line_channel_limits",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("limit", core.db.base.Amount(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"],
                                name=op.f("fk_credit_line_channel_limits_line_id_credit_lines")),
        sa.PrimaryKeyConstraint("line_id", "channel", name=op.f("pk_credit_line_channel_limits")),
    )
    op.create_table(
        "credit_line_drawdowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("amount", core.db.base.Amount(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_credit_line_drawdowns_application_id_applications")),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"],
                                name=op.f("fk_credit_line_drawdowns_line_id_credit_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_line_drawdowns")),
        sa.UniqueConstraint("application_id", name=op.f("uq_credit_line_drawdowns_application_id")),
    )
    op.create_index(op.f("ix_credit_line_drawdowns_line_id"), "credit_line_drawdowns", ["line_id"])
    op.create_table(
        "credit_line_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("limit_before", core.db.base.Amount(), nullable=True),
        sa.Column("limit_after", core.db.base.Amount(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"], name=op.f("fk_credit_line_events_line_id_credit_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_line_events")),
    )
    op.create_index(op.f("ix_credit_line_events_line_id"), "credit_line_events", ["line_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_line_events_line_id"), table_name="credit_line_events")
    op.drop_table("credit_line_events")
    op.drop_index(op.f("ix_credit_line_drawdowns_line_id"), table_name="credit_line_drawdowns")
    op.drop_table("credit_line_drawdowns")
    op.drop_table("credit_line_channel_limits")
    op.drop_table("customer_limits")
    op.drop_index("ix_credit_lines_state_expiry", table_name="credit_lines")
    op.drop_index(op.f("ix_credit_lines_customer_id"), table_name="credit_lines")
    op.drop_table("credit_lines")
