"""customer files: enterprises, relations, tags, channel onboarding, addresses

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 20:30:00

Enterprise customers (``enterprises``: credit code, legal representative, registered capital, GB/T 4754
industry code, addresses and corporate account, the personal and identifying values encrypted with blind
indexes), relations between customers and the people around them (``customer_relations``), tags set by rules
and staff (``customer_tags``), the customers a channel onboarded (``channel_customers``), an individual's
address (``customers.address`` with its blind index) and the enterprise an application is for
(``applications.enterprise_id``). Only new tables and nullable columns: existing rows need nothing.
The column types are frozen here (encrypted values are text; money ``NUMERIC(20, 4)``, a decimal string on
SQLite).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(20, 4).with_variant(sa.String(40), "sqlite")
NOW = sa.func.now()


def _subject(table: str) -> list[Any]:
    """The two subject keys of a table about an individual or an enterprise, exactly one set."""
    return [
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("(customer_id IS NULL) <> (enterprise_id IS NULL)", name=op.f(f"ck_{table}_subject")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f(f"fk_{table}_enterprise_id_enterprises")),
    ]


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.Text(), nullable=False),
        sa.Column("credit_code_index", sa.String(length=64), nullable=False),
        sa.Column("legal_representative_id", sa.Integer(), nullable=False),
        sa.Column("registered_capital", MONEY, nullable=True),
        sa.Column("industry_code", sa.String(length=5), nullable=False),
        sa.Column("registered_address", sa.Text(), nullable=False),
        sa.Column("registered_address_index", sa.String(length=64), nullable=False),
        sa.Column("operating_address", sa.Text(), nullable=True),
        sa.Column("operating_address_index", sa.String(length=64), nullable=True),
        sa.Column("account_bank_code", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.Text(), nullable=False),
        sa.Column("account_number_index", sa.String(length=64), nullable=False),
        sa.Column("account_holder", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["legal_representative_id"], ["customers.id"],
                                name=op.f("fk_enterprises_legal_representative_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("credit_code_index", name=op.f("uq_enterprises_credit_code_index")),
    )
    _index("enterprises", "legal_representative_id", "registered_address_index", "operating_address_index",
           "account_number_index")
    op.create_table(
        "customer_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        *_subject("customer_relations"),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("related_customer_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("contact_phone_index", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("(related_customer_id IS NULL) <> (contact_phone IS NULL)",
                           name=op.f("ck_customer_relations_person")),
        sa.ForeignKeyConstraint(["related_customer_id"], ["customers.id"],
                                name=op.f("fk_customer_relations_related_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_relations")),
    )
    _index("customer_relations", "customer_id", "enterprise_id", "related_customer_id", "contact_phone_index")
    op.create_table(
        "customer_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        *_subject("customer_tags"),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tags")),
    )
    _index("customer_tags", "customer_id", "enterprise_id", "code")
    op.create_table(
        "channel_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        *_subject("channel_customers"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_customers")),
    )
    _index("channel_customers", "channel", "customer_id", "enterprise_id")
    op.add_column("customers", sa.Column("address", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("address_index", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_customers_address_index"), "customers", ["address_index"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # a column with its reference is added in place; a batch would copy the table, and dropping the original
        # breaks the references to it (contracts, loans...)
        op.execute("ALTER TABLE applications ADD COLUMN enterprise_id INTEGER "
                   "CONSTRAINT fk_applications_enterprise_id_enterprises REFERENCES enterprises (id)")
    else:
        op.add_column("applications", sa.Column("enterprise_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_applications_enterprise_id_enterprises"), "applications", "enterprises",
                              ["enterprise_id"], ["id"])
    op.create_index(op.f("ix_applications_enterprise_id"), "applications", ["enterprise_id"], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite drops a column in a foreign key by copying the table, and dropping the original breaks the
        # references of the tables that point at it: its documented procedure (ALTER TABLE, "Making Other Kinds
        # Of Table Schema Changes") turns the checks off around the copy, which only works between transactions
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys = OFF")
        op.execute("BEGIN")
    for table in ("channel_customers", "customer_tags", "customer_relations"):
        op.drop_table(table)
    op.drop_index(op.f("ix_applications_enterprise_id"), table_name="applications")
    with op.batch_alter_table("applications") as batch:
        if not sqlite:  # SQLite's copy leaves out the column with its reference
            batch.drop_constraint(op.f("fk_applications_enterprise_id_enterprises"), type_="foreignkey")
        batch.drop_column("enterprise_id")
    op.drop_table("enterprises")
    op.drop_index(op.f("ix_customers_address_index"), table_name="customers")
    op.drop_column("customers", "address_index")
    op.drop_column("customers", "address")
    if sqlite:
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"downgrade 0014: references broken by the copy: {broken[:5]}")
        op.execute("COMMIT")
        op.execute("PRAGMA foreign_keys = ON")
        op.execute("BEGIN")
