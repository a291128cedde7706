"""``sandbox_identity``: a deterministic identity-verification provider (实名认证) for tests and demos.

It answers the ``identity`` hooks as a real provider would, from the input alone, so a test or a demo can
ask for each outcome on purpose:

- **three elements** (name + ID number + phone): a phone ending ``0000`` is ``mismatch`` (registered to
  someone else), ``0001`` is ``unverifiable`` (the operator has no record); otherwise ``match``;
- **bank card four elements**: a card number ending ``0000`` is ``mismatch`` (the holder differs), ``0001``
  ``unverifiable`` (the bank does not answer for that card); otherwise ``match``;
- **liveness and face match**: ``unverifiable`` without both the ID card photo and the live capture; else a
  similarity score in [0.50, 1.00) drawn from the two digests (the same pair always scores the same), a
  ``match`` at ``face_threshold`` (default 0.60) or above, else ``mismatch``.

Failures, as a provider has them: a phone or card number ending ``9999`` times out (raises
:class:`TimeoutError` after the latency), ``9998`` is an upstream error (raises :class:`ConnectionError`);
the ID numbers in ``failing_ids`` always fail. Each answer carries a reference
derived from the input (``SID-...``), the same for the same question.

Settings (``PLUGIN_CONFIG["sandbox_identity"]``): ``latency_seconds`` (sleep before answering, default 0;
with the manager's timeout, a timeout), ``face_threshold`` (decimal string), ``failing_ids``.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Literal

from core.plugins.hookspecs import hookimpl
from core.plugins.types import IdentityQuery, IdentityResult, PluginContext

__version__ = "1.0.0"
PROVIDER = "sandbox_identity"
Check = Literal["three_element", "bank_card", "liveness"]


def _reference(check: str, *parts: str | None) -> str:
    return "SID-" + hashlib.sha256("|".join([check, *(p or "" for p in parts)]).encode()).hexdigest()[:16]


def _answer_after_latency(context: PluginContext, query: IdentityQuery, key: str | None) -> None:
    """Sleep the configured latency, then fail as the provider would for ``key``'s failure suffixes."""
    latency = float(context.config.get("latency_seconds", 0) or 0)
    if latency:
        time.sleep(latency)
    if query.id_number in set(context.config.get("failing_ids") or ()):
        raise ConnectionError("identity provider: upstream error (configured failing id)")
    if key and key.endswith("9999"):
        raise TimeoutError("identity provider: no answer in time")
    if key and key.endswith("9998"):
        raise ConnectionError("identity provider: upstream error 502")


def _by_suffix(check: Check, key: str, reference: str) -> IdentityResult:
    if key.endswith("0000"):
        return IdentityResult(check, "mismatch", PROVIDER, reference, "elements do not belong together")
    if key.endswith("0001"):
        return IdentityResult(check, "unverifiable", PROVIDER, reference, "no record at the source")
    return IdentityResult(check, "match", PROVIDER, reference)


@hookimpl(trylast=True)
def identity_three_element(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """Name, ID number and phone, answered by the phone's last digits (module docstring)."""
    _answer_after_latency(context, query, query.phone)
    return _by_suffix("three_element", query.phone,
                      _reference("three_element", query.name, query.id_number, query.phone))


@hookimpl(trylast=True)
def identity_bank_card(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """The four elements, answered by the card number's last digits; a query without a card is
    ``unverifiable``."""
    _answer_after_latency(context, query, query.card_number)
    reference = _reference("bank_card", query.name, query.id_number, query.phone, query.bank_code,
                           query.card_number)
    if not query.card_number:
        return IdentityResult("bank_card", "unverifiable", PROVIDER, reference, "no card number")
    return _by_suffix("bank_card", query.card_number, reference)


def face_score(id_photo_sha256: str, face_sha256: str) -> Decimal:
    """The similarity the sandbox gives a pair of images: 0.50 to 0.99, fixed by their digests."""
    draw = int(hashlib.sha256(f"{id_photo_sha256}|{face_sha256}".encode()).hexdigest()[:8], 16) % 50
    return Decimal(50 + draw) / 100


@hookimpl(trylast=True)
def identity_liveness(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """Liveness and face match of the live capture against the ID photo (module docstring)."""
    _answer_after_latency(context, query, None)
    reference = _reference("liveness", query.id_number, query.id_photo_sha256, query.face_sha256)
    if not query.id_photo_sha256 or not query.face_sha256:
        missing = "id_card_front" if not query.id_photo_sha256 else "face_photo"
        return IdentityResult("liveness", "unverifiable", PROVIDER, reference, f"no {missing}")
    score = face_score(query.id_photo_sha256, query.face_sha256)
    threshold = Decimal(str(context.config.get("face_threshold", "0.60")))
    if score >= threshold:
        return IdentityResult("liveness", "match", PROVIDER, reference, score=score)
    return IdentityResult("liveness", "mismatch", PROVIDER, reference, f"face similarity {score} below {threshold}",
                          score=score)
