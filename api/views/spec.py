"""The OpenAPI documents: every published product, or one product's."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.openapi import document_for
from core.origination import published
from loanfactory.database import db_session, get_db


def _scope() -> str:
    return str(get_db().engine.url)


def register(bp: Blueprint) -> None:
    @bp.get("/openapi.json")
    def openapi_all() -> Response:
        """The whole API as published right now (no key needed)."""
        return jsonify(document_for(published.published_offers(db_session()), scope=_scope()))

    @bp.get("/products/<code>/openapi.json")
    def openapi_product(code: str) -> Response:
        """One published product's operations and the product-independent ones."""
        offer = published.published_offer(db_session(), code)
        return jsonify(document_for([offer], only=offer.code, scope=_scope()))
