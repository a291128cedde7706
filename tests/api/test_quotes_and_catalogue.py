"""Quotes and the catalogue as a channel sees them, priced from the published product.

Reference figures come from numpy-financial, not from our schedule code: CONSUMER_INSTALLMENT lends
10,000.00 over 12 months at its default 14% a year (equal installments, monthly rate 14%/12), plus a
service fee of 0.20% of the principal (20.00) each period. numpy_financial.pmt(0.14/12, 12, -10000) =
897.87 to the fen, so the borrower pays 917.87 a month; the APR is 12 × the IRR of
(-10000, 917.87 × 12), about 17.88%.
"""

from __future__ import annotations

from decimal import Decimal

import numpy_financial as npf
from flask import Flask

from tests.api.conftest import Channel, new_key, publish_sample

QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"


def test_the_catalogue_lists_published_products_with_their_limits(channel: Channel, consumer: int) -> None:
    listing = channel.get("/api/v1/products").get_json()
    assert [p["code"] for p in listing["items"]] == ["CONSUMER_INSTALLMENT"]
    item = listing["items"][0]
    assert item["amount"] == {"min": "1000.00", "max": "50000.00"}
    assert item["term"] == {"unit": "month", "min": 3, "max": 24}
    detail = channel.get("/api/v1/products/CONSUMER_INSTALLMENT").get_json()
    assert detail["version"] == consumer
    assert detail["term"]["values"] == [3, 6, 9, 12, 18, 24]
    assert detail["methods"] == ["equal_installment"]
    assert "monthly_debt_payments" in detail["required_applicant_fields"]
    assert detail["collateral"]["required"] is False


def test_a_quote_matches_an_independent_annuity_and_irr(channel: Channel, consumer: int) -> None:
    response = channel.post(QUOTE, {"amount": "10000.00", "term": 12, "method": "equal_installment",
                                    "start_date": "2026-01-15"}, idempotency_key=None)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    payment = Decimal(str(round(npf.pmt(0.14 / 12, 12, -10000), 2)))
    assert payment == Decimal("897.87")
    first = body["installments"][0]
    assert Decimal(first["principal"]) + Decimal(first["interest"]) == payment
    assert first["fee"] == "20.00" and first["due_date"] == "2026-02-15"
    flows = [-10000.0] + [float(i["total"]) for i in body["installments"]]
    expected_apr = npf.irr(flows) * 12
    assert abs(float(body["apr"]) - expected_apr) < 1e-5
    assert body["amount"] == "10000.00" and body["annual_rate"] == "0.1400"
    totals = sum(Decimal(i["total"]) for i in body["installments"])
    assert Decimal(body["total_payable"]) == totals
    assert Decimal(body["total_cost"]) == totals - Decimal("10000.00")
    assert body["maturity_date"] == "2027-01-15"


def test_a_quote_outside_the_limits_names_every_bad_field(channel: Channel, consumer: int) -> None:
    response = channel.post(QUOTE, {"amount": "50050.00", "term": 7, "method": "bullet"}, idempotency_key=None)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert set(errors) == {"/amount", "/term", "/method"}
    assert "at most 50000" in errors["/amount"]


def test_amounts_must_sit_on_the_step_and_be_exact(channel: Channel, consumer: int) -> None:
    off_step = channel.post(QUOTE, {"amount": "1050", "term": 12, "method": "equal_installment"})
    assert off_step.status_code == 422 and "steps of 100" in off_step.get_json()["errors"][0]["detail"]
    as_number = channel.post(QUOTE, {"amount": 1100, "term": 12, "method": "equal_installment"})
    assert as_number.status_code == 200 and as_number.get_json()["amount"] == "1100.00"
    fractional_fen = channel.post(QUOTE, {"amount": "1100.001", "term": 12, "method": "equal_installment"})
    assert fractional_fen.status_code == 422


def test_missing_fields_and_a_bad_start_date_are_named(channel: Channel, consumer: int) -> None:
    response = channel.post(QUOTE, {"term": 12})
    assert {e["pointer"] for e in response.get_json()["errors"]} == {"/amount", "/method"}
    bad_date = channel.post(QUOTE, {"amount": "1000", "term": 12, "method": "equal_installment",
                                    "start_date": "2026-02-30"})
    assert bad_date.status_code == 422 and bad_date.get_json()["errors"][0]["pointer"] == "/start_date"


def test_an_unpublished_product_is_not_found(channel: Channel, consumer: int) -> None:
    assert channel.get("/api/v1/products/SME_BUSINESS").status_code == 404
    assert channel.post("/api/v1/products/SME_BUSINESS/quotes", {}).status_code == 404


def test_a_key_sells_only_its_products(api_app: Flask, consumer: int) -> None:
    publish_sample(api_app, "short_term_bridge")
    narrow = Channel(api_app.test_client(), new_key(api_app, channel="bridge-only", scopes=["SHORT_TERM_BRIDGE"]))
    assert [p["code"] for p in narrow.get("/api/v1/products").get_json()["items"]] == ["SHORT_TERM_BRIDGE"]
    refused = narrow.post(QUOTE, {"amount": "1000", "term": 12, "method": "equal_installment"})
    assert refused.status_code == 403
    bridge = narrow.post("/api/v1/products/SHORT_TERM_BRIDGE/quotes",
                         {"amount": "5000", "term": 30, "method": "bullet", "start_date": "2026-03-01"})
    assert bridge.status_code == 200
    body = bridge.get_json()
    # bullet over 30 days at 18% a year, ACT/360: interest = 5000 × 0.18 × 30 / 360 = 75.00
    assert body["installments"] == [{"period": 1, "due_date": "2026-03-31", "principal": "5000.00",
                                     "interest": "75.00", "fee": "0.00", "total": "5075.00",
                                     "remaining_principal": "0.00"}]


def test_a_quote_reads_outside_a_transaction_and_still_sees_a_revoked_key_and_a_paused_product_at_once(
        db_app: Flask, db_channel: Channel) -> None:
    from sqlalchemy import select

    from core.channels.keys import ApiClient, revoke
    from core.products.models import ProductVersion
    from core.products.versions import pause
    from loanfactory.database import get_db

    publish_sample(db_app, "consumer_installment")
    engine = get_db(db_app).engine
    levels: list[str | None] = []

    @db_app.after_request
    def level(response):  # the isolation level the request's read ran at
        from loanfactory.database import db_session
        levels.append(db_session().connection().get_execution_options().get("isolation_level"))
        return response

    body = {"amount": "10000.00", "term": 12, "method": "equal_installment"}
    assert db_channel.post(QUOTE, body, idempotency_key=None).status_code == 200
    assert db_channel.get("/api/v1/products/CONSUMER_INSTALLMENT").status_code == 200
    assert db_channel.get("/api/v1/products").status_code == 200
    # PostgreSQL reads the key of a quote or a product in autocommit (no BEGIN, no ROLLBACK); SQLite, and every
    # other request, in a transaction
    autocommit = "AUTOCOMMIT" if engine.dialect.name == "postgresql" else None
    assert levels == [autocommit, autocommit, None]
    with engine.connect() as connection:  # the pool gave the connection back in a transaction's isolation
        assert connection.get_isolation_level() != "AUTOCOMMIT"
    other = new_key(db_app, "other-app")
    with db_app.app_context():  # another process pauses the product, then revokes the first key
        session = get_db(db_app).session()
        pause(session, session.scalars(select(ProductVersion)).one(), actor="checker", reason="rates")
        session.commit()
    assert db_channel.post(QUOTE, body, idempotency_key=None).status_code == 409  # product-paused
    with db_app.app_context():
        session = get_db(db_app).session()
        revoke(session.scalars(select(ApiClient).where(ApiClient.channel == "partner-app")).one())
        session.commit()
    assert db_channel.post(QUOTE, body, idempotency_key=None).status_code == 401
    assert Channel(db_channel.client, other).post(QUOTE, body, idempotency_key=None).status_code == 409
