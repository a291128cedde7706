"""Schema migrations in code: Alembic over the core's revisions and every plugin's own version location.

The core's revisions live in ``loanfactory/migrations/versions`` (one branch, ``0001``, ``0002``...). Each
plugin with tables names its own directory of revisions through the ``plugin_schema`` hook: a branch
labelled with the plugin's name whose first revision ``depends_on`` a core revision. :func:`alembic_config`
puts them all in ``version_locations``, so ``upgrade()`` (to ``heads``) brings the core and every plugin to
their newest schema, and ``alembic_version`` holds one row per branch. The plugins are those a manager
built from the configuration loads (:func:`loanfactory.plugins_host.configured_manager`), the disabled
ones included (:func:`plugin_schemas`).

``pending_changes(url)`` lists what the models (core and plugins) have that the database lacks: empty when
migrations and models agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db.base import ONLY_ON, database_url, make_engine
from core.errors import LoanFactoryError
from core.plugins.types import PluginSchema
from loanfactory.models import MODEL_MODULES, load_models, tables_of

MIGRATIONS = Path(__file__).with_name("migrations")
CORE_VERSIONS = MIGRATIONS / "versions"
#: where the schemas of the plugins are kept in an Alembic config's ``attributes`` (for ``env.py``)
SCHEMAS = "loanfactory.plugin_schemas"


class PartialPluginTablesError(LoanFactoryError):
    """A plugin's first revision found some of its tables and not others: the database was changed outside
    the migrations, and neither creating nor adopting them would be right. ``value`` lists the missing."""


def plugin_schemas() -> dict[str, PluginSchema]:
    """``{plugin: PluginSchema}`` of every installed plugin, those ``PLUGINS_DISABLED`` names included:
    disabling a plugin stops its calls and its commands, not its tables, so disabling and enabling it again
    needs no migration and loses nothing."""
    from loanfactory.plugins_host import configured_manager

    return configured_manager({"PLUGINS_DISABLED": []}).schemas()


def alembic_config(url: str | None = None, schemas: Mapping[str, PluginSchema] | None = None) -> Config:
    """An Alembic config for the database at ``url`` (default: ``DATABASE_URL`` or the embedded one).

    Args:
        url: the database.
        schemas: the plugins whose branches to include (default: those the configuration loads).
    """
    schemas = plugin_schemas() if schemas is None else dict(schemas)
    locations = [CORE_VERSIONS, *(schema.migrations for schema in schemas.values() if schema.migrations)]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(path) for path in locations).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    config.attributes[SCHEMAS] = schemas
    return config


def upgrade(url: str | None = None, revision: str = "heads", schemas: Mapping[str, PluginSchema] | None = None
            ) -> None:
    """Apply every migration up to ``revision``: ``heads`` (the core and every plugin), a core revision
    (``0005``), or one branch (``sandbox_bank@head``)."""
    command.upgrade(alembic_config(url, schemas), revision)


def pending_changes(url: str | None = None, schemas: Mapping[str, PluginSchema] | None = None) -> list[Any]:
    """Differences between the models (core and plugins) and the database's schema (Alembic's diff tuples)."""
    schemas = plugin_schemas() if schemas is None else schemas
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "include_object": included_on(conn.dialect.name)})
            return list(compare_metadata(context, load_models(schemas.values())))
    finally:
        engine.dispose()


def included_on(dialect: str) -> Any:
    """Alembic's ``include_object`` hook for ``dialect``: leave out the models' constraints that are created
    on another dialect only (:func:`core.db.base.only_on`), so a database is not told it lacks them."""

    def include(obj: Any, _name: str | None, _type: str, reflected: bool, _compare_to: Any) -> bool:
        only = None if reflected else getattr(obj, "info", {}).get(ONLY_ON)
        return only is None or only == dialect

    return include


def tables_present(bind: Any, table_names: Collection[str]) -> bool:
    """For a plugin's first revision: are its tables there already?

    A database whose core revision 0001 ran before the built-in plugins had branches of their own got
    their tables from 0001; their first revisions then create nothing and only record themselves. A
    third party moving its tables into migrations does the same.

    Returns:
        True when every table exists, False when none does.

    Raises:
        PartialPluginTablesError: some exist and some do not.
    """
    existing = set(sa.inspect(bind).get_table_names())
    missing = sorted(set(table_names) - existing)
    if missing and len(missing) < len(table_names):
        raise PartialPluginTablesError(f"of the tables {', '.join(sorted(table_names))} the database lacks only "
                                       f"{', '.join(missing)}; restore or drop them before upgrading",
                                       field="tables", value=missing)
    return not missing


def schema_problems(name: str, schema: PluginSchema, url: str) -> list[str]:
    """What keeps plugin ``name``'s schema from being migrated like the core's, checked by migrating the empty
    database at ``url`` (the contract tests of ``plugin_schema`` run this).

    The model modules must define tables; the revisions must be one branch labelled ``name`` whose base
    ``depends_on`` core revisions; upgrading to ``heads`` must make exactly the plugin's tables, as its
    models define them (each difference is listed as Alembic names it).

    Returns:
        The problems, in words; empty when there are none.
    """
    own = tables_of(schema.models)
    problems = [] if own else [f"the modules {', '.join(schema.models) or '(none)'} define no table"]
    if schema.migrations is None or not schema.migrations.is_dir():
        return [*problems, f"no directory of revisions at {schema.migrations}"]
    scripts = ScriptDirectory.from_config(alembic_config(url, {name: schema}))
    bases = [script for script in scripts.walk_revisions()
             if Path(script.path).parent == schema.migrations and script.down_revision is None]
    core = {script.revision for script in scripts.walk_revisions() if Path(script.path).parent == CORE_VERSIONS}
    if len(bases) != 1 or name not in bases[0].branch_labels:
        problems.append(f"the revisions in {schema.migrations} are not one branch labelled {name!r}")
    elif not bases[0].dependencies or not set(_as_tuple(bases[0].dependencies)) <= core:
        problems.append(f"the first revision {bases[0].revision} does not depend on a core revision")
    if problems:
        return problems
    upgrade(url, "heads", {name: schema})
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            dialect_rule = included_on(conn.dialect.name)
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": (
                lambda obj, obj_name, kind, reflected, other: _table_name(obj, obj_name, kind) in own
                and dialect_rule(obj, obj_name, kind, reflected, other))})
            differences = compare_metadata(context, load_models([schema]))
            stray = set(sa.inspect(conn).get_table_names()) - own - tables_of(MODEL_MODULES) - {"alembic_version"}
    finally:
        engine.dispose()
    problems += [f"the migrated database differs from the models: {difference!r}" for difference in differences]
    problems += [f"the revisions make the table {table}, which its models do not define" for table in sorted(stray)]
    return problems


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _table_name(obj: Any, name: str | None, kind: str) -> str | None:
    if kind == "table":
        return name
    table = getattr(obj, "table", None)
    return getattr(table, "name", None)


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


# Encrypting columns in place (the PII a database held in clear before a revision)

#: how many rows :func:`encrypt_in_place` rewrites at a time
BATCH = 1000


class ColumnToEncrypt(NamedTuple):
    """A column a revision encrypts: its table, the table's key column, its name, its type before (what the
    clear values are stored as) and its encrypted type (:mod:`core.customers.pii`)."""

    table: str
    key: str
    column: str
    clear: Any
    encrypted: Any


def _op() -> Any:
    from alembic import op

    return op


class _JsonText(sa.types.TypeDecorator[Any]):
    """A JSON document kept as its text: how ``application_contracts.signatures`` reads and writes between its
    ``JSON`` and its encrypted form."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def _retype(table: str, column: str, old: Any, new: Any) -> None:
    """``column`` from the storage type ``old`` to ``new`` (nothing when the two are stored alike)."""
    if type(old) is type(new):
        return
    dialect = _op().get_bind().dialect.name
    using: dict[str, Any] = {"postgresql_using": f"{column}::{'json' if isinstance(new, sa.JSON) else 'text'}"} \
        if dialect == "postgresql" and sa.JSON in (type(old), type(new)) else {}
    with _op().batch_alter_table(table) as batch:
        batch.alter_column(column, type_=new, existing_type=old, **using)


def _rewrite(table: str, key: str, column: str, read: Any, write: Any) -> None:
    """Every value of ``column``, read through the type ``read`` and written back through ``write``, a batch of
    :data:`BATCH` rows at a time in key order (a large table is never held in memory whole)."""
    bind = _op().get_bind()
    reader = sa.table(table, sa.column(key), sa.column(column, read))
    writer = sa.table(table, sa.column(key), sa.column(column, write))
    change = sa.update(writer).where(writer.c[key] == sa.bindparam("row_key")).values(
        {column: sa.bindparam("new_value", type_=write)})
    after: Any = None
    while True:
        query = sa.select(reader.c[key], reader.c[column]).where(reader.c[column].is_not(None))
        if after is not None:
            query = query.where(reader.c[key] > after)
        rows = bind.execute(query.order_by(reader.c[key]).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(change, [{"row_key": row_key, "new_value": value} for row_key, value in rows])
        after = rows[-1][0]


def _clear(old: Any) -> Any:
    """The type that reads and writes a column's clear values once its storage is the encrypted one's."""
    return _JsonText() if isinstance(old, sa.JSON) else old


def encrypt_in_place(columns: Sequence[ColumnToEncrypt]) -> None:
    """In a revision's ``upgrade``: retype each column to its encrypted type's storage and encrypt every value
    with the ring's first key (a thousand rows at a time)."""
    for table, key, column, clear, encrypted in columns:
        _retype(table, column, clear, encrypted.impl)
        _rewrite(table, key, column, _clear(clear), encrypted)


def decrypt_in_place(columns: Sequence[ColumnToEncrypt]) -> None:
    """In the same revision's ``downgrade``: the values in clear again, in their type before."""
    for table, key, column, clear, encrypted in columns:
        _rewrite(table, key, column, encrypted, _clear(clear))
        _retype(table, column, encrypted.impl, clear)
