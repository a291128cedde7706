"""early warning: the rule-set versions and the warnings raised

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:00:00

The tables of :mod:`core.early_warning.models`: each published version of the early-warning rules (immutable;
a change is a new version) and each warning a rule raised on a credit line, with its handling. New tables
only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_warning_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_early_warning_rule_sets")),
    )
    op.create_table(
        "early_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(length=40), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("handled_by", sa.String(length=120), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"], name=op.f("fk_early_warnings_line_id_credit_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_warnings")),
    )
    op.create_index(op.f("ix_early_warnings_customer_id"), "early_warnings", ["customer_id"])
    op.create_index(op.f("ix_early_warnings_line_id"), "early_warnings", ["line_id"])
    op.create_index("ix_early_warnings_state", "early_warnings", ["state"])


def downgrade() -> None:
    op.drop_index("ix_early_warnings_state", table_name="early_warnings")
    op.drop_index(op.f("ix_early_warnings_line_id"), table_name="early_warnings")
    op.drop_index(op.f("ix_early_warnings_customer_id"), table_name="early_warnings")
    op.drop_table("early_warnings")
    op.drop_table("early_warning_rule_sets")
