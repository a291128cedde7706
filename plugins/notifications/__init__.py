"""``notifications``: renders templates and delivers to a sandbox gateway's outbox.

``notification_send`` renders the product's template text when the request carries one, else the
shipped template for the event (:mod:`plugins.notifications.rendering`), checks the
recipient for the channel (an 11-digit mainland mobile number for SMS, an address for e-mail, a user id
for app push), stores the message in the outbox with a ``sent`` delivery record, then the gateway's
verdict: ``delivered``, or ``failed`` for recipients listed as unreachable.

Settings (``PLUGIN_CONFIG["notifications"]``): ``templates`` (extra or overriding templates),
``unreachable`` (recipients whose delivery fails), ``latency_seconds`` and ``failure_rate`` (a gateway
that is slow or down: the call fails, nothing is stored).
"""

from __future__ import annotations

import hashlib
import random
import re
import time

from sqlalchemy import select

from core.errors import InvalidArgumentError
from core.plugins.hookspecs import hookimpl
from core.plugins.types import NotificationReceipt, NotificationRequest, PluginContext, PluginSchema
from plugins.notifications.models import DeliveryRecord, OutboxMessage
from plugins.notifications.rendering import render, template_text

__version__ = "1.0.0"
MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class GatewayOutageError(ConnectionError):
    """The sandbox gateway pretends to be down (``failure_rate``)."""


@hookimpl(trylast=True)
def notification_send(context: PluginContext, message: NotificationRequest) -> NotificationReceipt:
    """Render, check the recipient, and deliver to the outbox once per ``request_id``."""
    text = message.text or template_text(message.template, message.locale, message.channel,
                                         context.config.get("templates"))
    body = render(text, message.variables, message.template)
    _check_recipient(message.channel, message.recipient)
    with context.db() as session:
        stored = session.scalar(select(OutboxMessage).where(OutboxMessage.request_id == message.request_id))
        if stored is not None:
            return NotificationReceipt(request_id=stored.request_id, status=stored.status,
                                       provider_reference=stored.provider_reference, rendered=stored.body)
    time.sleep(float(context.config.get("latency_seconds", 0)))
    if random.random() < float(context.config.get("failure_rate", 0)):
        raise GatewayOutageError("notification gateway: injected outage")
    reference = "SMSG-" + hashlib.sha256(message.request_id.encode()).hexdigest()[:16]
    status = "failed" if message.recipient in set(context.config.get("unreachable", ())) else "delivered"
    with context.db() as session:
        outbox = OutboxMessage(request_id=message.request_id, provider_reference=reference, channel=message.channel,
                               recipient_masked=mask_recipient(message.channel, message.recipient),
                               recipient_hash=hashlib.sha256(message.recipient.encode()).hexdigest(),
                               template=message.template, body=body, status=status, created_at=context.now)
        outbox.deliveries = [
            DeliveryRecord(status="sent", detail="accepted by the sandbox gateway", at=context.now),
            DeliveryRecord(status=status, at=context.now,
                           detail="recipient unreachable" if status == "failed" else "delivered to the handset"
                           if message.channel == "sms" else "delivered")]
        session.add(outbox)
        session.flush()
    return NotificationReceipt(request_id=message.request_id, status=status, provider_reference=reference,
                               rendered=body)


def _check_recipient(channel: str, recipient: str) -> None:
    pattern = {"sms": MOBILE, "email": EMAIL}.get(channel)
    if channel not in ("sms", "email", "app"):
        raise InvalidArgumentError(f"channel: {channel!r} is not sms, app or email", field="channel", value=channel)
    if (pattern is not None and not pattern.match(recipient)) or not recipient.strip():
        raise InvalidArgumentError(f"recipient: not a valid {channel} recipient", field="recipient")


def mask_recipient(channel: str, recipient: str) -> str:
    """``138****5678`` for phones, ``z***@example.com`` for e-mail, the first 3 characters for app ids."""
    if channel == "sms":
        return recipient[:-8] + "****" + recipient[-4:]
    if channel == "email":
        local, domain = recipient.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return recipient[:3] + "***"


@hookimpl(trylast=True)
def plugin_schema() -> PluginSchema:
    """The outbox and delivery records (``models``), and the revisions that make them (``migrations/``)."""
    return PluginSchema.of_package(__name__)
