"""The OpenAPI documents: every channel operation, or the same narrowed to one product.

Each answer carries an ``ETag`` (the document's hash, as in ``info.version``) and ``Last-Modified`` (the last
time a product's version was published, paused, resumed or retired), and answers ``304`` to an
``If-None-Match`` naming its ETag. A paused product's document is refused with ``409 product-paused``, as its
operations are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import func, select

from api.openapi import document_for, etag
from core.origination import published
from core.states import StateTransition
from loanfactory.database import db_session, get_db

#: when no product has ever changed: the first moment the API could have served a document
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _scope() -> str:
    return str(get_db().engine.url)


def _last_change() -> datetime:
    at = db_session().scalar(select(func.max(StateTransition.at)).where(
        StateTransition.entity_type == "product_version",
        StateTransition.to_state.in_(("published", "paused", "retired"))))
    if at is None:
        return EPOCH
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _answer(document: dict[str, Any]) -> Response:
    tag = etag(document)
    if request.if_none_match.contains(tag.strip('"')):
        response = Response(status=304)
    else:
        response = jsonify(document)
    response.headers["ETag"] = tag
    response.last_modified = _last_change()
    response.cache_control.no_cache = True
    return response


def register(bp: Blueprint) -> None:
    @bp.get("/openapi.json")
    def openapi_all() -> Response:
        """The whole API as published right now (no key needed)."""
        return _answer(document_for(published.published_offers(db_session()), scope=_scope()))

    @bp.get("/products/<code>/openapi.json")
    def openapi_product(code: str) -> Response:
        """One published product's document: the same operations, its request schemas narrowed."""
        offer = published.published_offer(db_session(), code)
        return _answer(document_for(published.published_offers(db_session()), only=offer, scope=_scope()))
