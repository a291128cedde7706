"""sandbox_bureau: the sandbox bureau's query log and received submissions

The first revision of the ``sandbox_bureau`` branch. Core revision 0001 created these tables until the
built-in plugins had migrations of their own; on a database made then, this revision finds them all and
only records itself (see docs/operations.md, "Upgrading the schema").

Revision ID: sandbox_bureau_0001
Revises:
Depends on: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base
from loanfactory.migrate import tables_present

revision: str = "sandbox_bureau_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sandbox_bureau",)
depends_on: str | Sequence[str] | None = "0001"

TABLES = ("sandbox_bureau_queries", "sandbox_bureau_submissions")


def upgrade() -> None:
    if tables_present(op.get_bind(), TABLES):
        return
    op.create_table(
        "sandbox_bureau_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=2), nullable=False),
        sa.Column("consent_reference", sa.String(length=120), nullable=False),
        sa.Column("consent_purpose", sa.String(length=200), nullable=False),
        sa.Column("queried_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queried_on", sa.Date(), nullable=False),
        sa.Column("institution", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_bureau_queries")),
    )
    op.create_index(
        op.f("ix_sandbox_bureau_queries_queried_on"), "sandbox_bureau_queries", ["queried_on"], unique=False
    )
    op.create_index(
        op.f("ix_sandbox_bureau_queries_subject_hash"), "sandbox_bureau_queries", ["subject_hash"], unique=False
    )
    op.create_table(
        "sandbox_bureau_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=60), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("account_type", sa.String(length=2), nullable=False),
        sa.Column("balance", core.db.base.Amount(), nullable=False),
        sa.Column("overdue_amount", core.db.base.Amount(), nullable=False),
        sa.Column("status_symbol", sa.String(length=1), nullable=False),
        sa.Column("five_tier", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_bureau_submissions")),
        sa.UniqueConstraint(
            "account_id", "kind", "report_date", name=op.f("uq_sandbox_bureau_submissions_account_id_kind_report_date")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_sandbox_bureau_submissions_reference")),
    )
    op.create_index(
        op.f("ix_sandbox_bureau_submissions_account_id"), "sandbox_bureau_submissions", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_sandbox_bureau_submissions_subject_hash"), "sandbox_bureau_submissions", ["subject_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_bureau_submissions_subject_hash"), table_name="sandbox_bureau_submissions")
    op.drop_index(op.f("ix_sandbox_bureau_submissions_account_id"), table_name="sandbox_bureau_submissions")
    op.drop_table("sandbox_bureau_submissions")
    op.drop_index(op.f("ix_sandbox_bureau_queries_subject_hash"), table_name="sandbox_bureau_queries")
    op.drop_index(op.f("ix_sandbox_bureau_queries_queried_on"), table_name="sandbox_bureau_queries")
    op.drop_table("sandbox_bureau_queries")
