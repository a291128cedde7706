"""Products: the published catalogue, one product's detail, and quotes."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from api import clock
from api.auth import current_client, published_version_read, reads_only
from api.body import all_problems, json_body, unknown_fields
from api.pagination import paginate_list
from api.problems import invalid
from api.serialize import offer_detail, offer_summary
from core.errors import InputError
from core.inputs import parse_date
from core.origination import published
from core.origination.catalog import Offer
from core.origination.quotes import quote
from loanfactory.database import db_session

QUOTE_FIELDS = {"amount", "term", "method", "start_date"}


def offer_for_channel(code: str) -> Offer:
    """The published product ``code`` if the calling key may sell it (404 / 403 otherwise)."""
    client = current_client()
    read, version_id = published_version_read(code)
    offer = (published.published_offer_of(db_session(), code, version_id) if read
             else published.published_offer(db_session(), code))
    client.require_scope(offer.code)
    return offer


def parse_start_date(data: dict[str, Any]) -> date:
    """``start_date`` from the body (ISO 8601), today when absent."""
    raw = data.get("start_date")
    return clock.today() if raw is None else parse_date(raw, "start_date")


def register(bp: Blueprint) -> None:
    @bp.get("/products")
    def list_products() -> Response:
        """The published products this key may sell, paginated."""
        client = current_client()
        offers = [o for o in published.published_offers(db_session()) if client.may_sell(o.code)]
        items, page = paginate_list(offers, "api.list_products")
        return jsonify({"items": [offer_summary(o) | {"links": {"self": url_for("api.get_product", code=o.code)}}
                                  for o in items], "page": page})

    @bp.get("/products/<code>")
    @reads_only
    def get_product(code: str) -> Response:
        """One published product with every limit a channel needs."""
        offer = offer_for_channel(code)
        links = {"quotes": url_for("api.create_quote", code=offer.code),
                 "applications": url_for("api.create_application", code=offer.code),
                 "openapi": url_for("api.openapi_product", code=offer.code)}
        return jsonify(offer_detail(offer) | {"links": links})

    @bp.post("/products/<code>/quotes")
    @reads_only
    def create_quote(code: str) -> Response:
        """Price an amount, term and method: the schedule, APR and total cost. Nothing is stored."""
        offer = offer_for_channel(code)
        data = json_body()
        problems = unknown_fields(data, QUOTE_FIELDS)
        missing = [name for name in ("amount", "term", "method") if name not in data]
        problems += [(f"/{name}", "is required") for name in missing]
        start = clock.today()
        try:
            start = parse_start_date(data)
        except InputError as error:
            problems.append(("/start_date", error.reason))
        if missing:
            raise invalid(problems)
        result = all_problems(problems, lambda: quote(offer, data["amount"], data["term"], data["method"], start))
        return jsonify(result.as_dict())

