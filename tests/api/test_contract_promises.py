"""What the contract promises a channel beyond the schemas: the documented example is accepted, every field
error is reported at once, a signed contract refuses a different signature, times keep their offset, and a
loan's schedule and repayments read as a channel expects."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from flask import Flask

from api.problems import PROBLEM_BASE
from tests.api.conftest import APPLY, Channel, application_body, book_loan

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"


def documented_application() -> dict:
    """The application body docs/api.md shows under "Applications"."""
    section = DOCS.read_text(encoding="utf-8").split("### Applications", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))


def pointers(response) -> set[str]:
    return {e.get("pointer", "") for e in response.get_json()["errors"]}


def test_the_documented_application_is_accepted_as_it_stands(seller: Channel) -> None:
    response = seller.post(APPLY, documented_application())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["state"] in ("approved", "under_review", "rejected")


def test_an_unknown_field_hides_no_other_field_error(seller: Channel) -> None:
    quote = seller.post(QUOTE, {"amount": "1.00", "term": 7, "method": "equal_installment", "bogus": 1},
                        idempotency_key=None)
    assert quote.status_code == 422 and pointers(quote) == {"/bogus", "/amount", "/term"}
    application = seller.post(APPLY, application_body()).get_json()
    url = f"/api/v1/applications/{application['id']}"
    seller.post(url + "/acceptance")
    signature = seller.post(url + "/contract/signature", {"signer_name": "", "sha256": "x", "extra": 1})
    assert signature.status_code == 422 and pointers(signature) == {"/extra", "/signer_name", "/sha256"}


def test_a_signed_contract_refuses_another_signer_and_another_hash(seller: Channel) -> None:
    application = seller.post(APPLY, application_body()).get_json()
    url = f"/api/v1/applications/{application['id']}"
    assert seller.get(url + "/contract").status_code == 409, "no contract before the offer is accepted"
    assert seller.post(url + "/acceptance").get_json()["state"] == "accepted"
    contract = seller.get(url + "/contract").get_json()
    signed = seller.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    assert signed.status_code == 200 and signed.get_json()["signed"]
    again = seller.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    assert again.status_code == 200 and again.get_json()["signatures"] == signed.get_json()["signatures"]
    other = seller.post(url + "/contract/signature", {"signer_name": "李四", "sha256": "0" * 64})
    assert other.status_code == 422 and other.get_json()["type"] == PROBLEM_BASE + "contract-mismatch"
    assert pointers(other) == {"/signer_name", "/sha256"}
    assert seller.get(url).get_json()["state"] == "contract_signed"


def test_every_time_carries_its_offset_first_and_replayed_alike(seller: Channel) -> None:
    first = seller.post(APPLY, application_body(), idempotency_key="same-key")
    replay = seller.post(APPLY, application_body(), idempotency_key="same-key")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == first.get_json()
    read = seller.get(f"/api/v1/applications/{first.get_json()['id']}").get_json()
    for body in (first.get_json(), read):
        assert body["created_at"].endswith("+08:00") and body["decided_at"].endswith("+08:00")
        assert body["decision"]["offer_expires_at"].endswith("+08:00")
    assert read["decided_at"] == first.get_json()["decided_at"]


def test_the_schedule_totals_each_installment_and_the_repayments_link_lists_them(selling_app: Flask,
                                                                                 seller: Channel) -> None:
    loan_id = book_loan(selling_app, seller)
    loan = seller.get(f"/api/v1/loans/{loan_id}").get_json()
    schedule = seller.get(loan["links"]["schedule"]).get_json()["installments"]
    for row in schedule:
        parts = sum(Decimal(row[k]) for k in ("principal", "interest", "fee", "penalty"))
        assert Decimal(row["total"]) == parts == Decimal(row["outstanding"])
    assert seller.get(loan["links"]["repayments"]).get_json()["items"] == []
    paid = seller.post(loan["links"]["repayments"], {"amount": schedule[0]["total"], "paid_on": "2026-03-02"})
    assert paid.status_code == 201
    listed = seller.get(loan["links"]["repayments"]).get_json()
    assert [r["id"] for r in listed["items"]] == [paid.get_json()["id"]] and listed["page"]["total"] == 1
    assert listed["items"][0]["allocated"] == {"lines": [], "excess": schedule[0]["total"]}
