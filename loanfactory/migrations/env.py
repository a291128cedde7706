"""Alembic environment: the whole metadata (core and plugins), the URL from ``DATABASE_URL`` or the caller's
config. The plugins are those :func:`loanfactory.migrate.alembic_config` was given, or those the
configuration loads.

Our column types render with their arguments (the encryption AAD of ``EncryptedString`` matters: a
value encrypted under one column's AAD does not decrypt under another's).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from core.customers.pii import EncryptedString
from core.db.base import Amount, make_engine
from loanfactory.migrate import SCHEMAS, included_on, plugin_schemas
from loanfactory.models import load_models

_schemas = context.config.attributes.get(SCHEMAS)
target_metadata = load_models((plugin_schemas() if _schemas is None else _schemas).values())


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    if kind != "type" or not isinstance(obj, (Amount, EncryptedString)):
        return False
    module = type(obj).__module__
    autogen_context.imports.add(f"import {module}")
    arguments = repr(obj.aad) if isinstance(obj, EncryptedString) else ""
    return f"{module}.{type(obj).__qualname__}({arguments})"


def run_migrations() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_item=render_item,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=included_on(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
