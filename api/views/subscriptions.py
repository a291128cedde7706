"""Webhook subscriptions: a channel registers URLs and sees what was delivered to them.

A URL is refused (422 naming ``/url``) unless it leads to public addresses only, under the app's
:func:`api.webhooks.target_policy`; an event shows its delivery status, never a network error's text."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from api.auth import current_client
from api.body import json_body, unknown_fields
from api.pagination import paginate
from api.problems import invalid
from api.serialize import iso, iso_text
from api.transactions import idempotent, transactional
from api.webhooks import target_policy
from core.channels import webhooks
from core.channels.webhooks import WebhookEvent, WebhookSubscription
from loanfactory.database import db_session


def subscription_json(subscription: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": subscription.id, "url": subscription.url, "events": list(subscription.events),
                            "active": subscription.active, "created_at": iso(subscription.created_at)}
    if with_secret:
        data["secret"] = subscription.secret
    return data


def event_json(event: WebhookEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.event_type, "status": event.status, "attempts": event.attempts,
            "last_error": webhooks.shown_error(event), "data": {**event.payload, "at": iso_text(event.payload["at"])},
            "delivered_at": iso(event.delivered_at)}


def register(bp: Blueprint) -> None:
    @bp.post("/webhooks")
    @idempotent
    def subscribe() -> tuple[Response, int, dict[str, str]]:
        """Register a URL; the answer carries the signing secret, shown this once."""
        data = json_body()
        problems = unknown_fields(data, {"url", "events"})
        events = data.get("events", ["*"])
        if not isinstance(events, list) or not events or not all(isinstance(e, str) and e.strip() for e in events):
            problems.append(("/events", "must be a non-empty list of event types or patterns"))
        if not isinstance(data.get("url"), str):
            problems.append(("/url", "is required: an https:// URL"))
        if problems:
            raise invalid(problems)
        subscription = webhooks.subscribe(db_session(), current_client().channel, data["url"], events,
                                          policy=target_policy())
        location = url_for("api.list_webhook_events", subscription_id=subscription.id)
        return jsonify(subscription_json(subscription, with_secret=True)), 201, {"Location": location}

    @bp.get("/webhooks")
    def list_webhooks() -> Response:
        query = (select(WebhookSubscription).where(WebhookSubscription.channel == current_client().channel)
                 .order_by(WebhookSubscription.id))
        rows, page = paginate(db_session(), query, "api.list_webhooks")
        return jsonify({"items": [subscription_json(s) for s in rows], "page": page})

    @bp.delete("/webhooks/<int:subscription_id>")
    @transactional
    def unsubscribe(subscription_id: int) -> tuple[str, int]:
        subscription = webhooks.subscription_of(db_session(), current_client().channel, subscription_id)
        subscription.active = False
        return "", 204

    @bp.get("/webhooks/<int:subscription_id>/events")
    def list_webhook_events(subscription_id: int) -> Response:
        subscription = webhooks.subscription_of(db_session(), current_client().channel, subscription_id)
        query = select(WebhookEvent).where(WebhookEvent.subscription_id == subscription.id).order_by(WebhookEvent.id)
        rows, page = paginate(db_session(), query, "api.list_webhook_events", subscription_id=subscription.id)
        return jsonify({"items": [event_json(e) for e in rows], "page": page})
