"""contracts, signature evidence and stored responses encrypted at rest

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 12:00:00

The contract PDFs (``application_contracts.content``), the signature evidence naming the signers
(``application_contracts.signatures``) and the stored idempotent responses (``idempotency_records.response_body``)
become encrypted columns (:mod:`core.customers.pii`): the columns change type where the encrypted form needs
text, and every existing value is encrypted in place with the ring's first ``LOANFACTORY_PII_KEY`` (so run it
with the production key ring set). The downgrade decrypts them back. The plugins' own tables follow in their
branches (``local_esign_0002``, ``sandbox_bank_0002``).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from core.customers.pii import EncryptedBytes, EncryptedJSON, EncryptedString
from loanfactory.migrate import ColumnToEncrypt, decrypt_in_place, encrypt_in_place

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ColumnToEncrypt("application_contracts", "application_id", "content", sa.LargeBinary(),
                    EncryptedBytes("application_contracts.content")),
    ColumnToEncrypt("application_contracts", "application_id", "signatures", sa.JSON(),
                    EncryptedJSON("application_contracts.signatures")),
    ColumnToEncrypt("idempotency_records", "id", "response_body", sa.Text(),
                    EncryptedString("idempotency_records.response_body")),
)


def upgrade() -> None:
    encrypt_in_place(COLUMNS)


def downgrade() -> None:
    decrypt_in_place(COLUMNS)
