"""documents handed in by customers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 21:10:00

``documents``: the record of each document (kind, media type told by content, size, SHA-256 address of the
encrypted bytes in the document store, retention class, encrypted file name, who handed it in), belonging to an
individual or an enterprise and optionally attached to an application or a loan. A new table only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = (("customer_id", "customers"), ("enterprise_id", "enterprises"), ("application_id", "applications"),
              ("loan_id", "loans"))


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=True) for column, _table in REFERENCES),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("media_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("retention_class", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=60), nullable=True),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name=op.f("ck_documents_subject")),
        *(sa.ForeignKeyConstraint([column], [f"{table}.id"], name=op.f(f"fk_documents_{column}_{table}"))
          for column, table in REFERENCES),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    for column in (*(column for column, _table in REFERENCES), "sha256"):
        op.create_index(op.f(f"ix_documents_{column}"), "documents", [column], unique=False)


def downgrade() -> None:
    op.drop_table("documents")
