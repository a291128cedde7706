"""Every table the app owns, in one place: importing a module registers its tables on ``Base.metadata``.

``create_all`` (the embedded default) and Alembic (production) both need the whole metadata; tables
are defined next to the code that owns them, so this list names those modules. The built-in plugins'
tables are included because they ship with the app; a third-party plugin brings its own.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from core.db.base import Base

MODEL_MODULES = (
    "core.applications.models",
    "core.backoffice.audit",
    "core.backoffice.signin",
    "core.businessday.calendar",
    "core.businessday.closes",
    "core.ledger.models",
    "core.loans.models",
    "core.origination.approval",
    "core.origination.booking",
    "core.origination.bureau_reports",
    "core.channels.keys",
    "core.channels.idempotency",
    "core.origination.returns",
    "core.channels.webhooks",
    "core.customers.parties",
    "core.plugins.manager",
    "core.products.models",
    "core.loans.events",
    "core.states",
    "core.backoffice.users",
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
