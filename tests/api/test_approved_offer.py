"""The approved offer: one typed record written at approval, read back whole or not at all.

The channel sees it under the decision's keys it always had; acceptance, the contract and booking read the
record, and a record that lacks a term stops them (never the product's default rate in its place).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.applications.models import Application
from core.businessday.clock import LENDER_ZONE
from core.errors import InvalidArgumentError
from core.loans.models import Loan
from core.origination import booking
from core.origination.approved import ApprovedOffer, offer_of, servicing_rules
from core.origination.booking import DisbursementOrder
from core.origination.errors import StoredOfferError
from core.origination.published import published_offer
from core.plugins.types import PaymentResult
from loanfactory.database import get_db
from tests.api.conftest import APPLY, Channel, application_body

#: an offer as stored (the consumer sample's 12,000.00 over 6 months at the B band's 11%)
EXAMPLE: dict[str, Any] = {
    "contract": {
        "schedule": {"principal": "12000.00", "annual_rate": "0.1100", "periods": 6, "start_date": "2026-11-23",
                     "method": "equal_installment", "frequency": "monthly", "day_count": "ACT/360",
                     "due_day_rule": "same_day", "repayment_day": None, "first_period": "actual_days",
                     "grace_periods": 0, "grace_type": "interest_only", "fee_per_period": "24.00",
                     "upfront_fee": "0.00", "rounding": "half_up"},
        "penalty": {"multiplier": "1.5", "daily_rate": None, "compound": False, "grace_days": 3,
                    "grace_retroactive": True},
        "allocation": {"order": ["penalty", "fee", "interest", "principal"], "basis": "installment"},
        "prepayment": {"allowed": True, "fees": [{"code": "prepayment", "name": "提前还款手续费",
                       "basis": "percent_of_outstanding", "value": "0.0050"}], "min_fee": "0",
                       "free_after_periods": None, "earliest_period": 1, "earliest_unit": "installment"},
        "late_fees": [{"code": "late", "name": "逾期管理费", "basis": "fixed", "value": "20.00"}]},
    "term": 6, "term_unit": "month", "apr": "0.151234", "first_installment": "2088.65", "total_payable": "12531.90",
    "expires_at": "2026-11-30T10:00:00+00:00", "accepted_at": None, "accepted_by": None}


def approved(seller: Channel) -> dict[str, Any]:
    body = seller.post(APPLY, application_body("12000.00", 6)).get_json()
    assert body["state"] == "approved", body
    return body


def stored_offer(app: Flask, application_id: int) -> dict[str, Any]:
    with app.app_context():
        offer = get_db(app).session().get(Application, application_id).offer
    assert offer is not None
    return offer


def damage(app: Flask, application_id: int, *path: str) -> None:
    """Remove the key at ``path`` from the application's stored offer, as a bad write would."""
    with app.app_context():
        session = get_db(app).session()
        application = session.get(Application, application_id)
        offer = copy.deepcopy(application.offer)
        target = offer
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        application.offer = offer
        session.commit()


def test_the_offer_is_written_once_at_approval_and_the_channel_reads_its_old_keys(selling_app: Flask,
                                                                                  seller: Channel) -> None:
    body = approved(seller)
    offer = ApprovedOffer.from_json(stored_offer(selling_app, body["id"]))
    assert ApprovedOffer.from_json(offer.to_json()) == offer
    terms = offer.contract.terms
    assert (terms.principal, terms.annual_rate, terms.periods, terms.method.value) == (
        Decimal("12000.00"), Decimal("0.1100"), 6, "equal_installment")
    with selling_app.app_context():
        session = get_db(selling_app).session()
        product = published_offer(session, body["product_code"])
        assert product.number == body["product_version"], "the API shows the version's number"
        assert offer.contract.rules == servicing_rules(product, terms.method.value)
        assert "annual_rate" not in session.get(Application, body["id"]).decision, "the decision keeps no terms"
    shown = {k: body["decision"][k] for k in offer.decision_fields()}
    assert shown["offer_expires_at"].endswith("+08:00"), "times are shown in Beijing time with the offset"
    shown["offer_expires_at"] = datetime.fromisoformat(shown["offer_expires_at"]).astimezone(UTC).isoformat()
    assert shown == offer.decision_fields() == {
        "approved_amount": "12000.00", "annual_rate": "0.1100", "apr": str(offer.apr), "term": 6,
        "method": "equal_installment", "first_installment": "2088.65", "total_payable": str(offer.total_payable),
        "offer_expires_at": offer.expires_at.astimezone(UTC).isoformat()}
    accepted = seller.post(f"/api/v1/applications/{body['id']}/acceptance").get_json()["decision"]
    assert accepted["accepted_by"] == "channel:partner-app"
    assert datetime.fromisoformat(accepted["accepted_at"]) == offer_of_app(selling_app, body["id"]).accepted_at


def offer_of_app(app: Flask, application_id: int) -> ApprovedOffer:
    with app.app_context():
        return offer_of(get_db(app).session().get(Application, application_id))


@pytest.mark.parametrize(("changes", "field"), [
    ({"term": None}, "offer.term"),
    ({"apr": "about 15%"}, "offer.apr"),
    ({"first_installment": 2088.65}, "offer.first_installment"),
    ({"expires_at": "2026-11-30T10:00:00"}, "offer.expires_at"),  # a time without its offset
    ({"expires_at": "next week"}, "offer.expires_at"),
    ({"accepted_by": 7}, "offer.accepted_by"),
])
def test_an_unparsable_key_of_a_stored_offer_is_refused_naming_it(changes, field) -> None:
    assert ApprovedOffer.from_json(EXAMPLE).to_json() == EXAMPLE, "the stored form is the serialiser's own"
    with pytest.raises(StoredOfferError) as error:
        ApprovedOffer.from_json({**EXAMPLE, **changes})
    assert error.value.field == field


def test_an_offer_is_never_made_with_a_time_its_stored_form_could_not_read() -> None:
    offer = ApprovedOffer.from_json(EXAMPLE)
    with pytest.raises(InvalidArgumentError) as error:
        offer.accept(at=datetime(2026, 11, 24, 10, 0), by="channel:partner-app")
    assert error.value.field == "accepted_at"


@pytest.mark.parametrize("path", [("contract", "schedule", "annual_rate"), ("contract", "penalty"), ("apr",),
                                  ("expires_at",), ("accepted_at",), ("term_unit",)])
def test_a_missing_key_of_a_stored_offer_is_refused_naming_it(path) -> None:
    damaged = copy.deepcopy(EXAMPLE)
    target = damaged
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    with pytest.raises(StoredOfferError) as error:
        ApprovedOffer.from_json(damaged)
    assert error.value.field == "offer." + ".".join(path)


def test_booking_an_offer_whose_rate_is_missing_fails_and_books_nothing(selling_app: Flask,
                                                                        seller: Channel) -> None:
    """The product's default rate (14%) never stands in for the approved one (11%) that went missing."""
    body = approved(seller)
    url = f"/api/v1/applications/{body['id']}"
    assert seller.post(url + "/acceptance").status_code == 200
    contract = seller.get(url + "/contract").get_json()
    assert seller.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]}
                       ).status_code == 200
    assert seller.post(url + "/disbursement").get_json()["state"] == "disbursing"
    damage(selling_app, body["id"], "contract", "schedule", "annual_rate")
    assert seller.get(url).status_code == 500
    with selling_app.app_context():
        session = get_db(selling_app).session()
        order = session.scalars(select(DisbursementOrder)).one()
        paid = PaymentResult(order.request_id, "succeeded", order.amount, "BANK-1", settled_at=datetime.now(UTC))
        with pytest.raises(StoredOfferError) as error:
            booking.complete_disbursement(session, order, paid, actor="payment:sandbox_bank",
                                          today=paid.settled_at.astimezone(LENDER_ZONE).date())
        assert error.value.field == "offer.contract.schedule.annual_rate"
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Loan)) == 0
        assert session.get(Application, body["id"]).state == "disbursing"


def test_accepting_or_drawing_up_a_damaged_offer_fails_naming_the_key(selling_app: Flask, seller: Channel) -> None:
    body = approved(seller)
    damage(selling_app, body["id"], "expires_at")
    refused = seller.post(f"/api/v1/applications/{body['id']}/acceptance")
    assert refused.status_code == 500 and refused.get_json()["type"].endswith("/damaged-record")
    assert "offer.expires_at" in refused.get_json()["detail"]
