"""sandbox_bank: holders' names and the orders' account numbers encrypted at rest

In the embedded default the sandbox bank's tables live in the lender's database: the names and account
numbers they hold become encrypted columns (:mod:`core.customers.pii`), every existing value encrypted in
place with the ring's first ``LOANFACTORY_PII_KEY``. The downgrade decrypts them back.

Revision ID: sandbox_bank_0002
Revises: sandbox_bank_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa

from core.customers.pii import EncryptedString
from loanfactory.migrate import ColumnToEncrypt, decrypt_in_place, encrypt_in_place

revision: str = "sandbox_bank_0002"
down_revision: str | None = "sandbox_bank_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ColumnToEncrypt("sandbox_bank_orders", "id", "account_number", sa.String(length=40),
                    EncryptedString("sandbox_bank_orders.account_number")),
    ColumnToEncrypt("sandbox_bank_orders", "id", "holder_name", sa.String(length=120),
                    EncryptedString("sandbox_bank_orders.holder_name")),
    ColumnToEncrypt("sandbox_bank_cards", "card_number", "holder_name", sa.String(length=120),
                    EncryptedString("sandbox_bank_cards.holder_name")),
)


def upgrade() -> None:
    encrypt_in_place(COLUMNS)


def downgrade() -> None:
    decrypt_in_place(COLUMNS)
