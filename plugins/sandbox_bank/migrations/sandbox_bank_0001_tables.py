"""sandbox_bank: the sandbox bank's orders, cards, planned faults and callbacks

The first revision of the ``sandbox_bank`` branch. Core revision 0001 created these tables until the
built-in plugins had migrations of their own; on a database made then, this revision finds them all and
only records itself (see docs/operations.md, "Upgrading the schema").

Revision ID: sandbox_bank_0001
Revises:
Depends on: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.base
from loanfactory.migrate import tables_present

revision: str = "sandbox_bank_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sandbox_bank",)
depends_on: str | Sequence[str] | None = "0001"

TABLES = ("sandbox_bank_callbacks", "sandbox_bank_cards", "sandbox_bank_faults", "sandbox_bank_orders")


def upgrade() -> None:
    if tables_present(op.get_bind(), TABLES):
        return
    op.create_table(
        "sandbox_bank_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=120), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_bank_callbacks")),
    )
    op.create_index(
        op.f("ix_sandbox_bank_callbacks_request_id"), "sandbox_bank_callbacks", ["request_id"], unique=False
    )
    op.create_table(
        "sandbox_bank_cards",
        sa.Column("card_number", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("balance", core.db.base.Amount(), nullable=True),
        sa.PrimaryKeyConstraint("card_number", name=op.f("pk_sandbox_bank_cards")),
    )
    op.create_table(
        "sandbox_bank_faults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=12), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("delay_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_bank_faults")),
    )
    op.create_table(
        "sandbox_bank_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=120), nullable=False),
        sa.Column("bank_serial", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount", core.db.base.Amount(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bank_code", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=120), nullable=False),
        sa.Column("original_request_id", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("failure_code", sa.String(length=40), nullable=False),
        sa.Column("failure_message", sa.String(length=200), nullable=False),
        sa.Column("planned_failure", sa.String(length=40), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("settle_at", sa.DateTime(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_bank_orders")),
        sa.UniqueConstraint("bank_serial", name=op.f("uq_sandbox_bank_orders_bank_serial")),
        sa.UniqueConstraint("request_id", name=op.f("uq_sandbox_bank_orders_request_id")),
    )
    op.create_index(op.f("ix_sandbox_bank_orders_settle_at"), "sandbox_bank_orders", ["settle_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_bank_orders_settle_at"), table_name="sandbox_bank_orders")
    op.drop_table("sandbox_bank_orders")
    op.drop_table("sandbox_bank_faults")
    op.drop_table("sandbox_bank_cards")
    op.drop_index(op.f("ix_sandbox_bank_callbacks_request_id"), table_name="sandbox_bank_callbacks")
    op.drop_table("sandbox_bank_callbacks")
