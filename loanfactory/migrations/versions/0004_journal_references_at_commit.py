"""the journal's references checked at commit on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:10:00

On PostgreSQL an entry's loan and a posting's entry are checked by the commit-time balance trigger, for a
transaction's lines in one statement, instead of by foreign keys that query once per inserted row
(:data:`core.ledger.models.REFERENCES_CHECKED_AT_COMMIT_EXCEPT_ON`). The keys are dropped there and the
balance function that now checks them is installed. SQLite keeps its foreign keys: nothing changes there.
Downgrading restores the keys and leaves the function, whose extra checks agree with them.
"""

from collections.abc import Sequence

from alembic import op

from core.ledger.models import BALANCE_FUNCTION_DDL

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, constraint, column, referred table)
REFERENCES = (
    ("ledger_entries", "fk_ledger_entries_loan_id_loans", "loan_id", "loans"),
    ("ledger_postings", "fk_ledger_postings_entry_id_ledger_entries", "entry_id", "ledger_entries"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().execute(BALANCE_FUNCTION_DDL)
        for table, name, _column, _referred in REFERENCES:
            op.drop_constraint(name, table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name, column, referred in REFERENCES:
            op.create_foreign_key(name, table, referred, [column], ["id"])
