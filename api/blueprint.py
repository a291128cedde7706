"""The ``api`` blueprint, built once per app from the view modules' ``register`` functions.

Blueprints cannot gain handlers after they have been registered, and tests build many apps, so each app
gets a fresh blueprint. Every view function lives in a view module; this module only assembles them.
"""

from __future__ import annotations

from flask import Blueprint

#: endpoints reachable without an API key: the OpenAPI documents and the payment channel's callback
#: (which carries its own HMAC signature instead)
PUBLIC_ENDPOINTS = frozenset({"api.openapi_all", "api.openapi_product", "api.disbursement_callback"})


def make_blueprint() -> Blueprint:
    """A new blueprint with every API route."""
    from api.views import applications, contracts, loans, products, spec, subscriptions

    bp = Blueprint("api", __name__)
    for module in (products, spec, applications, contracts, loans, subscriptions):
        module.register(bp)
    return bp
