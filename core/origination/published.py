"""The catalogue: the published version of each product, as :class:`~core.origination.catalog.Offer`\\ s.

Reads the product versions table of :mod:`core.products` on every call (one small query for the published
version ids), so publishing or pausing a product changes what channels can quote and apply for at once.
A released version never changes (the products module freezes it), so the parsed :class:`Offer` of a
version is cached by its id, per database; its document is read only the first time. The id lookup runs on
every quote and application, so it is a Core statement on the table built once (the ORM's per-statement
work would cost more than the query); the API reads it in the statement that reads the caller's key
(:data:`PUBLISHED_ID_OF_CODE`, :func:`published_offer_of`).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from core.origination.catalog import Offer
from core.origination.errors import ProductPausedError, UnknownProductError
from core.products.models import ProductVersion

_OFFERS: dict[tuple[str, int], Offer] = {}
CACHE_SIZE = 256
_VERSIONS = cast(Table, ProductVersion.__table__)
_PUBLISHED_ID = select(_VERSIONS.c.id).where(_VERSIONS.c.code == bindparam("code"),
                                             _VERSIONS.c.status == "published")
_PAUSED = select(_VERSIONS.c.id).where(_VERSIONS.c.code == bindparam("code"), _VERSIONS.c.status == "paused")
#: the published version id of the product ``:code``, to read along with another row in one statement
PUBLISHED_ID_OF_CODE = _PUBLISHED_ID.scalar_subquery()


def _offer(session: Session, version_id: int) -> Offer:
    """The offer of ``version_id``, parsed once per database; the version is read only on a miss."""
    key = (_scope(session), version_id)
    offer = _OFFERS.get(key)
    if offer is None:
        row = session.execute(select(ProductVersion.document, ProductVersion.version)
                              .where(ProductVersion.id == version_id)).first()
        if row is None:
            raise UnknownProductError(f"product version {version_id} does not exist", field="product_version",
                                      value=version_id)
        if len(_OFFERS) >= CACHE_SIZE:
            _OFFERS.clear()
        offer = _OFFERS[key] = Offer.of(version_id, row.document, row.version)
    return offer


def _scope(session: Session) -> str:
    return str(session.get_bind().engine.url)


def published_offers(session: Session) -> list[Offer]:
    """Every product with a published version, by code."""
    ids = session.scalars(select(ProductVersion.id).where(ProductVersion.status == "published")
                          .order_by(ProductVersion.code))
    return [_offer(session, version_id) for version_id in ids]


def published_offer(session: Session, code: str) -> Offer:
    """The published version of ``code``.

    Raises:
        ProductPausedError: ``code``'s published version is paused.
        UnknownProductError: ``code`` has no published version (unknown, draft or retired).
    """
    return published_offer_of(session, code, session.execute(_PUBLISHED_ID, {"code": code}).scalar())


def published_offer_of(session: Session, code: str, version_id: int | None) -> Offer:
    """The offer of ``code``'s published version ``version_id``, read by the caller with
    :data:`PUBLISHED_ID_OF_CODE` in the same transaction (``None``: none is published).

    Raises:
        ProductPausedError: ``code``'s published version is paused.
        UnknownProductError: ``code`` has no published version.
    """
    if version_id is None:
        if session.execute(_PAUSED, {"code": code}).first() is not None:
            raise ProductPausedError(f"code: product {code!r} is paused", field="code", value=code)
        raise UnknownProductError(f"product {code!r} is not published", field="code", value=code)
    return _offer(session, version_id)


def version_number(session: Session, version_id: int) -> int:
    """The number the admin, the CLI and the API show for the version ``version_id`` (its code's 1, 2, ...)."""
    number = _offer(session, version_id).number
    assert number is not None  # the catalogue's offers carry their number
    return number


def offer_of_version(session: Session, version_id: int) -> Offer:
    """The offer of a version an application was priced under (it may no longer be the published one)."""
    return _offer(session, version_id)
