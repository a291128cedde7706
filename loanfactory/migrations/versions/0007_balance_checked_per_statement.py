"""the journal's balance checked per inserting statement, not per posting, on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:00:00

The deferred balance check was a row trigger on ``ledger_postings``: every posting queued an event, and at
commit each event re-read its row and called the check function, most of them only to find their range
checked already. Now a statement trigger notes each inserting statement's first and last posting id in
``ledger_posting_checks`` (:class:`core.ledger.models.PostingCheck`) and the deferred constraint trigger on
that table checks the same range at commit with the same function, once per statement. SQLite checks in
Python and gets the (empty) table only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.ledger.models import NOTE_POSTINGS_DDL
from loanfactory.migrate import install_table_guards

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_ROW_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()
"""


def upgrade() -> None:
    op.create_table("ledger_posting_checks",
                    sa.Column("id", ID, nullable=False),
                    sa.Column("first_id", ID, nullable=False),
                    sa.Column("last_id", ID, nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_posting_checks")))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_balanced ON ledger_postings")
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_noted ON ledger_postings")
        op.get_bind().execute(NOTE_POSTINGS_DDL)
    install_table_guards(op.get_bind(), ("ledger_posting_checks",))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_postings_noted ON ledger_postings")
        op.execute("DROP FUNCTION ledger_note_postings()")
    op.drop_table("ledger_posting_checks")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ROW_TRIGGER)  # the check function takes a posting row as well as a noted statement
