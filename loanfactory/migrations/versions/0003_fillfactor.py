"""free room in the pages of the rows the end-of-day rewrites daily

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:40:00

On PostgreSQL ``loan_balances`` gets fillfactor 50 and ``loan_installments`` 70, as ``create_all`` makes
them (:func:`core.db.base.keep_pages_free`), so the end-of-day's daily updates are HOT. The setting applies to
pages written from now on; the operations guide tells how to repack existing pages.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTORS = {"loan_balances": 50, "loan_installments": 70}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, fillfactor in FILLFACTORS.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {fillfactor})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILLFACTORS:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
