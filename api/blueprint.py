"""The ``api`` blueprint, built once per app from the view modules' ``register`` functions.

Blueprints cannot gain handlers after they have been registered, and tests build many apps, so each app
gets a fresh blueprint. Every view function lives in a view module; this module only assembles them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort

from api.openapi.schemas import MAX_ID

#: endpoints reachable without an API key: the OpenAPI documents and the payment channel's callback
#: (which carries its own HMAC signature instead)
PUBLIC_ENDPOINTS = frozenset({"api.openapi_all", "api.openapi_product", "api.disbursement_callback"})


def make_blueprint() -> Blueprint:
    """A new blueprint with every API route."""
    from api.views import (
        applications,
        contracts,
        credit_lines,
        customers,
        debits,
        documents,
        loans,
        plugins,
        products,
        resubmissions,
        spec,
        subscriptions,
    )

    bp = Blueprint("api", __name__)
    for module in (products, spec, applications, contracts, loans, debits, subscriptions, plugins, resubmissions,
                   credit_lines, customers, documents):
        module.register(bp)
    bp.url_value_preprocessor(_refuse_huge_ids)
    return bp


def _refuse_huge_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id beyond a 32-bit key names nothing: answer 404 before it reaches the database driver."""
    if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
        abort(404)
