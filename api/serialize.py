"""JSON shapes of the API's resources: money as strings, dates ISO 8601, times with their offset (+08:00),
nothing from the ORM leaks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.origination.catalog import REQUIRED_CONSENTS, Offer

#: the zone every time the API writes is shown in
SHOWN_ZONE = ZoneInfo("Asia/Shanghai")


def money(value: Decimal | None) -> str | None:
    """``Decimal('12.5')`` -> ``"12.50"``: two decimals, as a string."""
    return None if value is None else f"{value.quantize(Decimal('0.01')):f}"


def iso(value: date | datetime | None) -> str | None:
    """A date as ``YYYY-MM-DD``; a time in Beijing time with its offset (``2026-03-02T10:00:00+08:00``), the
    same whether it was just made or read back (a database without zones, SQLite, gives it back naive, in
    UTC as it was written)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(SHOWN_ZONE).isoformat()
    return value.isoformat()


def iso_text(value: str | None) -> str | None:
    """A time stored as ISO 8601 text (an offer's deadline) in the zone :func:`iso` shows."""
    return None if value is None else iso(datetime.fromisoformat(value))


def _plain(value: Any) -> Any:
    """A number of the product's document as a decimal string (a boolean or text as it is)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (Decimal, int)):
        return f"{value:f}" if isinstance(value, Decimal) else str(value)
    return value


def offer_summary(offer: Offer) -> dict[str, Any]:
    """A product in the catalogue list."""
    amount = offer.product.amount
    return {
        "code": offer.code,
        "version": offer.number,
        "name": offer.name,
        "currency": offer.currency,
        "amount": {"min": money(amount.min), "max": money(amount.max)},
        "term": {"unit": offer.product.term_unit, "min": offer.terms[0], "max": offer.terms[-1]},
        "methods": list(offer.methods),
    }


def offer_detail(offer: Offer) -> dict[str, Any]:
    """Everything a channel needs to build its forms for one product."""
    product = offer.product
    document = offer.document
    rate = product.rate
    collateral = offer.collateral
    return {
        "code": offer.code,
        "version": offer.number,
        "name": offer.name,
        "description": document.get("description"),
        "customer_type": product.customer_type,
        "currency": offer.currency,
        "amount": {"min": money(product.amount.min), "max": money(product.amount.max),
                   "step": money(product.amount.step), "default": money(product.amount.default)},
        "term": {"unit": product.term_unit, "values": list(offer.terms), "default": product.term_default},
        "methods": list(offer.methods),
        "default_method": product.default_method.value,
        "annual_rate": {"min": _plain(rate.min), "max": _plain(rate.max), "default": _plain(rate.default)},
        "fees": [{"code": f.code, "name": {"zh": f.name_zh, "en": f.name_en}, "when": f.when, "basis": f.basis,
                  "value": _plain(f.value)} for f in product.fees()],
        "prepayment": dict(document.get("prepayment", {})),
        "collateral": {"required": offer.collateral_required,
                       "types": [{"type": t, "max_ltv": _plain(ltv)} for t, ltv in offer.collateral_types.items()],
                       **({"min_coverage": _plain(collateral["min_coverage"])}
                          if collateral.get("min_coverage") is not None else {})},
        "required_applicant_fields": list(offer.required_applicant_fields),
        "required_consents": list(REQUIRED_CONSENTS),
    }
