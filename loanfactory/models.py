"""Every table the app owns, in one place: importing a module registers its tables on ``Base.metadata``.

``create_all`` (the embedded default) and Alembic (production) both need the whole metadata; tables
are defined next to the code that owns them, so this list names those modules. The built-in plugins'
tables are included because they ship with the app; a third-party plugin brings its own.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from core.db import Base

MODEL_MODULES = (
    "core.applications.models",
    "core.audit",
    "core.calendar",
    "core.eod.models",
    "core.ledger.models",
    "core.loans.models",
    "core.origination.approval",
    "core.origination.booking",
    "core.origination.bureau_reports",
    "core.origination.channels",
    "core.origination.idempotency",
    "core.origination.returns",
    "core.origination.webhooks",
    "core.parties",
    "core.plugin_manager",
    "core.products.models",
    "core.servicing.models",
    "core.states",
    "core.users",
    "plugins.local_esign.models",
    "plugins.notifications.models",
    "plugins.sandbox_bank.models",
    "plugins.sandbox_bureau.models",
)


def load_models() -> MetaData:
    """Import every model module and return the complete metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
