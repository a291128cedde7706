"""Signed result notifications: how the bank signs a callback and how we check one.

The bank sends ``POST`` with a JSON body and two headers: ``X-Sandbox-Timestamp`` (Unix seconds) and
``X-Sandbox-Signature``, the hex HMAC-SHA256 of ``<timestamp>.<body>`` under the secret shared with the
merchant. We recompute it over the raw body exactly as received, compare in constant time, and refuse a
timestamp more than :data:`TOLERANCE_SECONDS` away from our clock, so a captured callback cannot be
replayed days later. The body names the request, its status and amount.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.money import to_decimal
from core.plugins.types import CallbackSignatureError, PaymentResult

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
TOLERANCE_SECONDS = 300
DEV_SECRET = "sandbox-bank DEVELOPMENT callback secret - never in production"
#: the shortest ``callback_secret`` accepted outside the demo (32 characters: ``secrets.token_hex(16)``)
MIN_SECRET_LENGTH = 32
STATUSES = ("pending", "succeeded", "failed")


def secret_of(config: Mapping[str, Any]) -> str:
    """The configured ``callback_secret``, or the labelled development secret when unset (the app refuses
    to start without one outside the demo and the tests: :func:`secret_problems`)."""
    return str(config.get("callback_secret") or DEV_SECRET)


def secret_problems(config: Mapping[str, Any]) -> list[str]:
    """What makes the configured ``callback_secret`` unfit for a real bank: unset, the development secret,
    or shorter than :data:`MIN_SECRET_LENGTH`."""
    secret = str(config.get("callback_secret") or "")
    if not secret:
        return ["callback_secret is not set (PLUGIN_CONFIG sandbox_bank.callback_secret)"]
    if secret == DEV_SECRET:
        return ["callback_secret is the development secret published in the source"]
    if len(secret) < MIN_SECRET_LENGTH:
        return [f"callback_secret must be at least {MIN_SECRET_LENGTH} characters"]
    return []


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>``."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, payload: Mapping[str, Any], now: datetime) -> tuple[dict[str, str], bytes]:
    """Headers and body of a callback carrying ``payload``."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body),
            "Content-Type": "application/json"}, body


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise CallbackSignatureError(f"headers: the callback has no {name} header", field=name)


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentResult:
    """The payment result a genuine callback announces.

    Raises:
        CallbackSignatureError: a header is missing, the signature does not match the body, the timestamp
            is outside the tolerance, or the signed body is not a payment result.
    """
    timestamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not hmac.compare_digest(given.strip().lower(), signature(secret, timestamp, body)):
        raise CallbackSignatureError("body: the callback's signature does not match its body",
                                     field=SIGNATURE_HEADER)
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC)
    except ValueError:
        raise CallbackSignatureError(f"{TIMESTAMP_HEADER}: {timestamp!r} is not a Unix time",
                                     field=TIMESTAMP_HEADER) from None
    if abs((now - sent).total_seconds()) > TOLERANCE_SECONDS:
        raise CallbackSignatureError(f"{TIMESTAMP_HEADER}: sent at {sent.isoformat()}, more than "
                                     f"{TOLERANCE_SECONDS} s from now; refusing a replay", field=TIMESTAMP_HEADER)
    return _result(body)


def _result(body: bytes) -> PaymentResult:
    try:
        data = json.loads(body)
        status = data["status"]
        if status not in STATUSES:
            raise ValueError(status)
        settled = data.get("settled_at")
        return PaymentResult(request_id=str(data["request_id"]), status=status,
                             amount=to_decimal(str(data["amount"]), "amount"),
                             channel_reference=str(data.get("bank_serial", "")),
                             failure_code=str(data.get("failure_code", "")),
                             failure_message=str(data.get("failure_message", "")),
                             retryable=bool(data.get("retryable", False)),
                             settled_at=datetime.fromisoformat(settled) if settled else None)
    except (ValueError, KeyError, TypeError) as error:
        raise CallbackSignatureError(f"body: a signed callback that is not a payment result ({error})",
                                     field="body") from None


def payload(request_id: str, kind: str, status: str, amount: Decimal, bank_serial: str, failure_code: str,
            failure_message: str, retryable: bool, settled_at: datetime | None) -> dict[str, Any]:
    """The JSON body of a callback."""
    return {"request_id": request_id, "kind": kind, "status": status, "amount": f"{amount:.2f}",
            "bank_serial": bank_serial, "failure_code": failure_code, "failure_message": failure_message,
            "retryable": retryable, "settled_at": settled_at.isoformat() if settled_at else None}
