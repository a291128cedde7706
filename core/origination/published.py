"""The catalogue: the published version of each product, as :class:`~core.origination.catalog.Offer`\\ s.

Reads the product versions table of :mod:`core.products` on every call (one small query), so publishing
or pausing a product changes what channels can quote and apply for at once. A published version never
changes, so the parsed :class:`Offer` of a version is cached by its id (per database: ``scope``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.origination.catalog import Offer
from core.origination.errors import UnknownProductError
from core.products.models import ProductVersion
from core.products.versions import published_version

_OFFERS: dict[tuple[str, int], Offer] = {}
CACHE_SIZE = 256


def _offer(scope: str, version_id: int, document: Mapping[str, Any]) -> Offer:
    key = (scope, version_id)
    offer = _OFFERS.get(key)
    if offer is None:
        if len(_OFFERS) >= CACHE_SIZE:
            _OFFERS.clear()
        offer = _OFFERS[key] = Offer.of(version_id, document)
    return offer


def _scope(session: Session) -> str:
    return str(session.get_bind().engine.url)


def published_offers(session: Session) -> list[Offer]:
    """Every product with a published version, by code."""
    scope = _scope(session)
    rows = session.execute(select(ProductVersion.id, ProductVersion.document).where(
        ProductVersion.status == "published").order_by(ProductVersion.code))
    return [_offer(scope, version_id, document) for version_id, document in rows]


def published_offer(session: Session, code: str) -> Offer:
    """The published version of ``code``.

    Raises:
        UnknownProductError: ``code`` has no published version (unknown, draft, paused or retired).
    """
    version = published_version(session, code)
    if version is None:
        raise UnknownProductError(f"product {code!r} is not published", field="code", value=code)
    return _offer(_scope(session), version.id, version.document)


def offer_of_version(session: Session, version_id: int) -> Offer:
    """The offer of a version an application was priced under (it may no longer be the published one)."""
    version = session.get(ProductVersion, version_id)
    if version is None:
        raise UnknownProductError(f"product version {version_id} does not exist", field="product_version",
                                  value=version_id)
    return _offer(_scope(session), version.id, version.document)
