"""Money guards as a careless or hostile channel meets them: a repayment's date, its amount, the payment
callback's amount and date, and the per-customer credit limits.

The loan: 12,000.00 over 6 months for the applicant of ``application_body`` (grade B, 11% a year, a 24.00
service fee per installment), paid out on 2026-03-02 by the sandbox bank. The API's business date is pinned
to 2026-03-10, so "today" is that day whatever the machine's clock says. CONSUMER_INSTALLMENT allows 3 live
loans and 200,000.00 of principal per customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.applications.models import Application
from core.backoffice.audit import AuditEvent
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.origination.booking import DisbursementOrder
from loanfactory.database import get_db
from plugins.sandbox_bank import callbacks
from tests.api.conftest import (
    APPLY,
    PAYOUT_DAY,
    Channel,
    application_body,
    bank_callbacks,
    book_loan,
    id_number,
    new_key,
    publish_sample,
    sample,
    selling,
    to_disbursing,
)

TODAY = "2026-03-10"
CALLBACK = "/api/v1/callbacks/payments/sandbox_bank"


@pytest.fixture
def guarded_app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/guards.sqlite3", API_BUSINESS_DATE=TODAY)


@pytest.fixture
def channel(guarded_app: Flask) -> Channel:
    return Channel(guarded_app.test_client(), new_key(guarded_app))


def pointers(response: Any) -> list[str]:
    return [error.get("pointer") for error in response.get_json().get("errors", [])]


def rows(app: Flask, query: Any) -> list[Any]:
    with app.app_context():
        return list(get_db(app).session().scalars(query))


def test_a_repayment_dated_after_today_or_before_the_loan_s_last_event_is_refused_naming_paid_on(
        guarded_app: Flask, channel: Channel) -> None:
    loan_id = book_loan(guarded_app, channel)
    repayments = f"/api/v1/loans/{loan_id}/repayments"
    for paid_on in ("2099-01-01", "9999-12-31", "2026-03-11", "2020-01-01", "2026-03-01"):
        refused = channel.post(repayments, {"amount": "100.00", "paid_on": paid_on})
        assert refused.status_code == 422, (paid_on, refused.get_json())
        assert pointers(refused) == ["/paid_on"], paid_on
    loan = channel.get(f"/api/v1/loans/{loan_id}").get_json()
    assert (loan["state"], loan["days_past_due"], loan["bucket"]) == ("active", 0, "M0")

    assert channel.post(repayments, {"amount": "100.00", "paid_on": "2026-03-05"}).status_code == 201
    earlier = channel.post(repayments, {"amount": "100.00", "paid_on": "2026-03-04"})
    assert earlier.status_code == 422 and pointers(earlier) == ["/paid_on"]
    assert channel.post(repayments, {"amount": "100.00", "paid_on": "2026-03-05"}).status_code == 201
    assert channel.post(repayments, {"amount": "100.00"}).status_code == 201  # today, 2026-03-10
    taken = rows(guarded_app, select(ServicingEvent.business_date).where(ServicingEvent.kind == "repayment"))
    assert [day.isoformat() for day in taken] == ["2026-03-05", "2026-03-05", TODAY]


def test_a_prepayment_dated_after_today_is_refused_naming_on(guarded_app: Flask, channel: Channel) -> None:
    """The product accepts prepayment from installment 3's due date, 2026-06-02: a date after it, but after
    today too, is not a prepayment anyone has made."""
    loan_id = book_loan(guarded_app, channel)
    for path in ("prepayment-quotes", "prepayments"):
        refused = channel.post(f"/api/v1/loans/{loan_id}/{path}", {"on": "2026-06-10"})
        assert refused.status_code == 422 and pointers(refused) == ["/on"], path
    assert channel.get(f"/api/v1/loans/{loan_id}").get_json()["state"] == "active"


def test_money_beyond_twice_the_payoff_is_refused_naming_amount(guarded_app: Flask, channel: Channel) -> None:
    """The payoff is the whole schedule still unpaid (nothing is due on 2026-03-10): 2,088.65 a month, the
    last installment taking the rounding residue; at most twice that may be brought, the suspense counted."""
    loan_id = book_loan(guarded_app, channel)
    schedule = channel.get(f"/api/v1/loans/{loan_id}/schedule").get_json()["installments"]
    payoff = sum(Decimal(i["principal"]) + Decimal(i["interest"]) + Decimal(i["fee"]) for i in schedule)
    assert Decimal("12531.00") < payoff < Decimal("12532.00")
    repayments = f"/api/v1/loans/{loan_id}/repayments"
    refused = channel.post(repayments, {"amount": "1000000.00"})
    assert refused.status_code == 422 and pointers(refused) == ["/amount"]
    assert channel.post(repayments, {"amount": str(2 * payoff)}).status_code == 201
    again = channel.post(repayments, {"amount": "0.01"})
    assert again.status_code == 422 and pointers(again) == ["/amount"]
    balances = channel.get(f"/api/v1/loans/{loan_id}/balances").get_json()
    assert balances["overpayment"] == str(2 * payoff)


def forged(request_id: str, *, amount: str, settled_at: str) -> tuple[dict[str, str], bytes]:
    """A callback signed with the sandbox bank's secret (as a leaked secret or a bank's bug would send it)."""
    body = callbacks.payload(request_id, "payout", "succeeded", Decimal(amount), "B-FORGED", "", "", False,
                             datetime.fromisoformat(settled_at))
    return callbacks.sign(callbacks.DEV_SECRET, body, PAYOUT_DAY)


def test_a_signed_callback_that_disagrees_with_its_order_is_refused_and_flagged(guarded_app: Flask,
                                                                                channel: Channel) -> None:
    url = to_disbursing(guarded_app, channel)
    (order,) = rows(guarded_app, select(DisbursementOrder))
    client = guarded_app.test_client()

    headers, body = forged(order.request_id, amount="1.00", settled_at="2026-03-02T10:05:00+08:00")
    cheap = client.post(CALLBACK, data=body, headers=headers)
    assert cheap.status_code == 422 and pointers(cheap) == ["/amount"]
    a_year_back = (PAYOUT_DAY - timedelta(days=365)).isoformat()
    headers, body = forged(order.request_id, amount="12000.00", settled_at=a_year_back)
    old = client.post(CALLBACK, data=body, headers=headers)
    assert old.status_code == 422 and pointers(old) == ["/settled_at"]
    headers, body = forged(order.request_id, amount="12000.00", settled_at="2026-03-12T09:00:00+08:00")
    ahead = client.post(CALLBACK, data=body, headers=headers)
    assert ahead.status_code == 422 and pointers(ahead) == ["/settled_at"]

    assert rows(guarded_app, select(func.count()).select_from(Loan)) == [0]
    (flagged,) = rows(guarded_app, select(DisbursementOrder))
    assert flagged.status == "pending" and flagged.failure.startswith("date_out_of_range: settled_at: 2026-03-12")
    refusals = rows(guarded_app, select(AuditEvent).where(AuditEvent.action == "disbursement.callback_refused"))
    assert [(e.entity_id, e.after["kind"], e.after["field"]) for e in refusals] == [
        (order.request_id, "amount_mismatch", "amount"), (order.request_id, "date_out_of_range", "settled_at"),
        (order.request_id, "date_out_of_range", "settled_at")]
    assert refusals[0].after["callback"]["amount"] == "1.00" and refusals[0].actor == "payment:sandbox_bank"
    assert channel.get(url).get_json()["state"] == "disbursing"

    (genuine,) = bank_callbacks(guarded_app)
    assert client.post(CALLBACK, data=genuine[1], headers=genuine[0]).status_code == 200
    loan = channel.get(f"/api/v1/loans/{channel.get(url).get_json()['loan_id']}").get_json()
    assert (loan["principal"], loan["disbursed_on"]) == ("12000.00", "2026-03-02")


def test_five_applications_in_a_row_for_one_new_id_number_stop_at_three(guarded_app: Flask,
                                                                       channel: Channel) -> None:
    body = application_body(id_no=id_number("19900101", 7))
    decided = [channel.post(APPLY, body).get_json() for _ in range(5)]
    assert [a["state"] for a in decided] == ["approved"] * 3 + ["rejected"] * 2
    assert all("TOO_MANY_LOANS" in a["decision"]["reasons"] for a in decided[3:])


def test_the_limits_are_counted_again_before_the_money_leaves(guarded_app: Flask, channel: Channel) -> None:
    """An application approved first, then three of another product whose limit is ten: paying the first
    out would give the customer four, one more than its product allows."""
    wide = sample("consumer_installment")
    wide["code"] = "CONSUMER_WIDE"
    wide["credit_limits"] = {**wide["credit_limits"], "max_concurrent_loans": 10}
    publish_sample(guarded_app, "consumer_installment", wide)
    body = application_body()
    first = channel.post(APPLY, body).get_json()
    assert first["state"] == "approved"
    others = [channel.post(APPLY.replace("CONSUMER_INSTALLMENT", "CONSUMER_WIDE"), body).get_json()
              for _ in range(3)]
    assert [a["state"] for a in others] == ["approved"] * 3
    first_url = f"/api/v1/applications/{first['id']}"
    channel.post(first_url + "/acceptance")
    contract = channel.get(first_url + "/contract").get_json()
    channel.post(first_url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    refused = channel.post(first_url + "/disbursement")
    assert refused.status_code == 422 and pointers(refused) == ["/amount"]
    assert channel.get(first_url).get_json()["state"] == "contract_signed"
    assert rows(guarded_app, select(func.count()).select_from(DisbursementOrder)) == [0]
    assert rows(guarded_app, select(func.count()).select_from(Application)) == [4]
