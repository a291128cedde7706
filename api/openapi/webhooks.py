"""The ``webhooks`` section: one entry per event type, its body and its headers (OpenAPI 3.1)."""

from __future__ import annotations

from typing import Any

from api.openapi.schemas import EVENT_TYPES, ref

SIGNATURE = {"name": "LoanFactory-Signature", "in": "header", "required": True,
             "description": "`t=<unix time>,v1=<hex>`: v1 is HMAC-SHA256 over `<t>.<raw body>` with the "
                            "subscription's secret. Check it, and refuse old timestamps.",
             "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"}}
EVENT = {"name": "LoanFactory-Event", "in": "header", "required": True, "description": "The event type.",
         "schema": {"type": "string"}}
DELIVERY = {"name": "LoanFactory-Delivery", "in": "header", "required": True,
            "description": "The event id: delivery is at least once, drop a duplicate by it.",
            "schema": {"type": "string"}}


def webhooks() -> dict[str, Any]:
    """What a subscribed receiver gets: a POST per event, answered with any 2xx."""
    return {event: {"post": {
        "operationId": "on_" + event.replace(".", "_"), "tags": ["webhooks"],
        "summary": f"{event}: the {event.split('.')[0]} moved to {event.split('.')[1]}",
        "description": "Sent after the change commits; retried with exponential backoff (10 s doubling to an "
                       "hour, 10 attempts) until a 2xx. A redirect is not followed.",
        "parameters": [SIGNATURE, EVENT, DELIVERY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("WebhookPayload")}}},
        "responses": {"2XX": {"description": "Received."}},
    }} for event in EVENT_TYPES}
