"""Money guards as a careless or hostile channel meets them: the date and the amount of money coming in.

The loan: 12,000.00 over 6 months for the applicant of ``application_body`` (grade B, 11% a year, a 24.00
service fee per installment), paid out on 2026-03-02 by the sandbox bank. The API's business date is pinned
to 2026-03-10, so "today" is that day whatever the machine's clock says.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.loans.events import ServicingEvent
from loanfactory.database import get_db
from tests.api.conftest import (
    PAYMENT_PLUGINS,
    Channel,
    book_loan,
    make_api_app,
    new_key,
    publish_sample,
)

TODAY = "2026-03-10"


@pytest.fixture
def guarded_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_api_app(f"sqlite:///{tmp_path}/guards.sqlite3", API_BUSINESS_DATE=TODAY, **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    yield app
    get_db(app).engine.dispose()


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
