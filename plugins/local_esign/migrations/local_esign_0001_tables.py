"""local_esign: the local e-signature's documents, signatures and signer keys

The first revision of the ``local_esign`` branch. Core revision 0001 created these tables until the
built-in plugins had migrations of their own; on a database made then, this revision finds them all and
only records itself (see docs/operations.md, "Upgrading the schema").

Revision ID: local_esign_0001
Revises:
Depends on: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.customers.pii
from loanfactory.migrate import tables_present

revision: str = "local_esign_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("local_esign",)
depends_on: str | Sequence[str] | None = "0001"

TABLES = ("esign_documents", "esign_signer_keys", "esign_signatures")


def upgrade() -> None:
    if tables_present(op.get_bind(), TABLES):
        return
    op.create_table(
        "esign_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esign_documents")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_esign_documents_contract_id")),
    )
    op.create_table(
        "esign_signer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signer_index", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("private_key", core.customers.pii.EncryptedString("esign_signer_keys.private_key"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esign_signer_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_esign_signer_keys_fingerprint")),
    )
    op.create_index(op.f("ix_esign_signer_keys_signer_index"), "esign_signer_keys", ["signer_index"], unique=False)
    op.create_table(
        "esign_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_identifier", core.customers.pii.EncryptedString("esign_signatures.signer_identifier"), nullable=False),
        sa.Column("signer_index", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["esign_documents.contract_id"],
            name=op.f("fk_esign_signatures_contract_id_esign_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_esign_signatures")),
        sa.UniqueConstraint(
            "contract_id", "role", "signature", name=op.f("uq_esign_signatures_contract_id_role_signature")
        ),
    )
    op.create_index(op.f("ix_esign_signatures_contract_id"), "esign_signatures", ["contract_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_esign_signatures_contract_id"), table_name="esign_signatures")
    op.drop_table("esign_signatures")
    op.drop_index(op.f("ix_esign_signer_keys_signer_index"), table_name="esign_signer_keys")
    op.drop_table("esign_signer_keys")
    op.drop_table("esign_documents")
