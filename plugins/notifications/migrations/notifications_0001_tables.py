"""notifications: the sandbox gateway's outbox and delivery records

The first revision of the ``notifications`` branch. Core revision 0001 created these tables until the
built-in plugins had migrations of their own; on a database made then, this revision finds them all and
only records itself (see docs/operations.md, "Upgrading the schema").

Revision ID: notifications_0001
Revises:
Depends on: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loanfactory.migrate import tables_present

revision: str = "notifications_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("notifications",)
depends_on: str | Sequence[str] | None = "0001"

TABLES = ("sandbox_notification_outbox", "sandbox_notification_deliveries")


def upgrade() -> None:
    if tables_present(op.get_bind(), TABLES):
        return
    op.create_table(
        "sandbox_notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=80), nullable=False),
        sa.Column("provider_reference", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient_masked", sa.String(length=80), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_notification_outbox")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_sandbox_notification_outbox_provider_reference")),
        sa.UniqueConstraint("request_id", name=op.f("uq_sandbox_notification_outbox_request_id")),
    )
    op.create_index(
        op.f("ix_sandbox_notification_outbox_recipient_hash"),
        "sandbox_notification_outbox",
        ["recipient_hash"],
        unique=False,
    )
    op.create_table(
        "sandbox_notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sandbox_notification_outbox.id"],
            name=op.f("fk_sandbox_notification_deliveries_message_id_sandbox_notification_outbox"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_notification_deliveries")),
    )
    op.create_index(
        op.f("ix_sandbox_notification_deliveries_message_id"),
        "sandbox_notification_deliveries",
        ["message_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_notification_deliveries_message_id"), table_name="sandbox_notification_deliveries")
    op.drop_table("sandbox_notification_deliveries")
    op.drop_index(op.f("ix_sandbox_notification_outbox_recipient_hash"), table_name="sandbox_notification_outbox")
    op.drop_table("sandbox_notification_outbox")
