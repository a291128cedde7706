"""Schema migrations in code: an Alembic config pointing at ``loanfactory/migrations``.

``upgrade(url)`` brings a database to the newest schema; ``pending_changes(url)`` lists what the models
have that the database lacks (empty when migrations and models agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from core.db.base import ONLY_ON, database_url, make_engine
from loanfactory.models import load_models

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the database at ``url`` (default: ``DATABASE_URL`` or the embedded one)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply every migration up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def pending_changes(url: str | None = None) -> list[Any]:
    """Differences between the models and the database's schema (Alembic's diff tuples)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "include_object": included_on(conn.dialect.name)})
            return list(compare_metadata(context, load_models()))
    finally:
        engine.dispose()


def included_on(dialect: str) -> Any:
    """Alembic's ``include_object`` hook for ``dialect``: leave out the models' constraints that are created
    on another dialect only (:func:`core.db.base.only_on`), so a database is not told it lacks them."""

    def include(obj: Any, _name: str | None, _type: str, reflected: bool, _compare_to: Any) -> bool:
        only = None if reflected else getattr(obj, "info", {}).get(ONLY_ON)
        return only is None or only == dialect

    return include


def install_table_guards(bind: Any, table_names: tuple[str, ...]) -> None:
    """Run the ``after_create`` DDL (triggers, guard functions) the models attach to ``table_names``.

    Autogenerate does not see triggers; the ledger's balance and immutability triggers and the product
    versions' freeze triggers are attached to their tables as ``after_create`` DDL, each limited to its
    dialect. A migration that creates those tables calls this so a migrated database is guarded exactly
    like one made by ``create_all``.
    """
    metadata = load_models()
    for name in table_names:
        table = metadata.tables[name]
        table.dispatch.after_create(table, bind, checkfirst=False, _ddl_runner=None, _is_metadata_operation=False)
