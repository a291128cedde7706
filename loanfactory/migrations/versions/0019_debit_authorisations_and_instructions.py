"""debit authorisations (代扣授权) and debit instructions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 20:30:00

``debit_authorisations``: the borrower's authorisation captured at signing (the account encrypted at rest,
the consent as printed, the contract's SHA-256, revocation). ``debit_instructions``: one row per
installment and attempt, unique ``(loan_id, period, attempt)``, its ``request_id`` the payment channel's
idempotency key. The tables are new: nothing to migrate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.customers.pii
import core.db.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "debit_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=False),
        sa.Column("account_number", core.customers.pii.EncryptedString("debit_authorisations.account_number"),
                  nullable=False),
        sa.Column("holder_name", core.customers.pii.EncryptedString("debit_authorisations.holder_name"),
                  nullable=False),
        sa.Column("account_tail", sa.String(length=4), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("contract_sha256", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_table(
        "debit_instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=80), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("product_version_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("amount", core.db.base.Amount(), nullable=False),
        sa.Column("collected", core.db.base.Amount(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("failure_code", sa.String(length=40), nullable=False),
        sa.Column("failure_message", sa.String(length=200), nullable=False),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.Column("batch_id", sa.String(length=60), nullable=True),
        sa.Column("channel_reference", sa.String(length=60), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id", "period", "attempt", name="uq_debit_instructions_attempt"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_debit_instructions_state", "debit_instructions", ["state", "plugin"])
    op.create_index("ix_debit_instructions_day", "debit_instructions", ["scheduled_on"])


def downgrade() -> None:
    op.drop_index("ix_debit_instructions_day", table_name="debit_instructions")
    op.drop_index("ix_debit_instructions_state", table_name="debit_instructions")
    op.drop_table("debit_instructions")
    op.drop_table("debit_authorisations")
