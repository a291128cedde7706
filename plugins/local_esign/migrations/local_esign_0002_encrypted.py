"""local_esign: the signed documents and the signers' names encrypted at rest

The contract PDFs (``esign_documents.content``) name the borrower, and ``esign_signatures.signer_name`` is
the signer's name: both become encrypted columns (:mod:`core.customers.pii`), every value existing encrypted
in place with the ring's first ``LOANFACTORY_PII_KEY``. The downgrade decrypts them back.

Revision ID: local_esign_0002
Revises: local_esign_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa

from core.customers.pii import EncryptedBytes, EncryptedString
from loanfactory.migrate import ColumnToEncrypt, decrypt_in_place, encrypt_in_place

revision: str = "local_esign_0002"
down_revision: str | None = "local_esign_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ColumnToEncrypt("esign_documents", "id", "content", sa.LargeBinary(), EncryptedBytes("esign_documents.content")),
    ColumnToEncrypt("esign_signatures", "id", "signer_name", sa.String(length=200),
                    EncryptedString("esign_signatures.signer_name")),
)


def upgrade() -> None:
    encrypt_in_place(COLUMNS)


def downgrade() -> None:
    decrypt_in_place(COLUMNS)
