"""Every table, in one place: importing a module registers its tables on ``Base.metadata``.

``create_all`` (the embedded default) and Alembic (production) both need the whole metadata; tables
are defined next to the code that owns them, so :data:`MODEL_MODULES` names the core's modules and each
plugin names its own through the ``plugin_schema`` hook (:class:`core.plugins.types.PluginSchema`), the
built-ins exactly like a third party.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.orm import Mapper

from core.db.base import Base
from core.plugins.types import PluginSchema

MODEL_MODULES = (
    "core.applications.models",
    "core.backoffice.audit",
    "core.backoffice.signin",
    "core.businessday.calendar",
    "core.businessday.closes",
    "core.eod.runs",
    "core.finance.models",
    "core.ledger.models",
    "core.ledger.periods",
    "core.loans.models",
    "core.origination.approval",
    "core.origination.booking",
    "core.origination.batches",
    "core.origination.bureau_reports",
    "core.channels.keys",
    "core.channels.idempotency",
    "core.origination.returns",
    "core.channels.webhooks",
    "core.customers.parties",
    "core.credit_lines.models",
    "core.early_warning.models",
    "core.debits.models",
    "core.messages.models",
    "core.customers.enterprises",
    "core.customers.relations",
    "core.customers.tags",
    "core.origination.customers",
    "core.documents.files",
    "core.retention.holds",
    "core.plugins.manager",
    "core.products.models",
    "core.loans.events",
    "core.states",
    "core.backoffice.users",
)


def load_models(schemas: Iterable[PluginSchema] = ()) -> MetaData:
    """Import the core's model modules and those of ``schemas`` (the plugins'); return the metadata."""
    for name in (*MODEL_MODULES, *(module for schema in schemas for module in schema.models)):
        importlib.import_module(name)
    return Base.metadata


def tables_of(modules: Iterable[str]) -> set[str]:
    """The names of the tables ``modules`` define on ``Base.metadata``: those of the mapped classes defined in
    them, and the ``Table`` objects they hold."""
    names = set()
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Table) and value.metadata is Base.metadata:
                names.add(value.name)
            elif isinstance(value, type) and value.__module__ == name:
                mapper: Mapper[Any] | None = inspect(value, raiseerr=False)  # None when not mapped (a mixin)
                if mapper is not None and mapper.class_ is value:
                    names.update(table.name for table in mapper.tables
                                 if isinstance(table, Table) and table.metadata is Base.metadata)
    return names
