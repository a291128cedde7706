"""The whole life of a revolving line through the channel API, on SQLite and PostgreSQL, with the ledger checked.

Granted at 20,000 (the good applicant's band: 10.8%), drawn three times by three methods, repaid (a
prepayment of the daily-interest drawdown, the first installment of the instalment drawdown) so the limit
comes back, frozen by an early-warning rule when an installment is left unpaid (a drawdown refused with the
reason), unfrozen once the warning is handled, and expired. Reference figures come from
numpy-financial and the day-count arithmetic written out here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from flask import Flask

from core.credit_lines import lifecycle
from core.early_warning.scan import handle_warning, scan
from core.early_warning.versions import publish_rule_set
from core.eod.run import run_eod
from core.ledger import loan_balances, trial_balance
from tests.api.conftest import Channel, application_body, new_key
from tests.credit_lines.conftest import line_app, session_of, settle

RATE = Decimal("0.108")
FEN = Decimal("0.01")


@pytest.fixture
def api(db_url: str) -> Iterator[Flask]:
    yield from line_app(db_url, API_BUSINESS_DATE="2026-03-02")


def on(app: Flask, day: str) -> None:
    app.config["API_BUSINESS_DATE"] = day


def close_days(app: Flask, through: date) -> None:
    with app.app_context():
        session = session_of(app)
        run_eod(session, through)
        session.commit()


def books_balanced(app: Flask, loan_ids: list[int]) -> list[Decimal]:
    """The trial balance nets to zero; the principal each loan still owes, by the ledger."""
    with app.app_context():
        session = session_of(app)
        assert trial_balance(session).difference == 0
        return [loan_balances(session, loan_id).as_dict()["principal"] for loan_id in loan_ids]


def test_a_revolving_line_from_grant_to_expiry(api: Flask) -> None:
    channel = Channel(api.test_client(), new_key(api))
    body = application_body("20000.00")
    del body["term"], body["method"]
    applied = channel.post("/api/v1/products/REVOLVING_CREDIT_LINE/credit-line-applications", body)
    assert applied.status_code == 201 and applied.get_json()["state"] == "approved", applied.get_json()
    assert channel.post("/api/v1/products/REVOLVING_CREDIT_LINE/applications",
                        application_body("5000.00", 3)).get_json()["errors"][0]["pointer"] == "/product"
    taken = channel.post(applied.get_json()["links"]["credit_line"])
    assert taken.status_code == 201
    line = taken.get_json()
    assert (line["limit"], line["used"], line["available"], line["annual_rate"], line["expires_on"]) == (
        "20000.00", "0.00", "20000.00", "0.1080", "2027-03-01")
    url = line["links"]["self"]

    quoted = channel.post(url + "/drawdown-quotes", {"amount": "6000.00", "term": 6,
                                                     "method": "equal_installment"}, idempotency_key=None)
    installment = Decimal(str(round(npf.pmt(float(RATE) / 12, 6, -6000), 2)))
    assert quoted.status_code == 200 and Decimal(quoted.get_json()["installments"][0]["total"]) == installment

    first = channel.post(url + "/drawdowns", {"amount": "6000.00", "term": 6, "method": "equal_installment"},
                         idempotency_key="draw-1")
    again = channel.post(url + "/drawdowns", {"amount": "6000.00", "term": 6, "method": "equal_installment"},
                         idempotency_key="draw-1")
    assert first.status_code == 202 and again.get_json()["id"] == first.get_json()["id"]
    assert channel.post(url + "/drawdowns", {"amount": "4000.00", "term": 3, "method": "interest_only"}
                        ).status_code == 202
    daily = channel.post(url + "/drawdowns", {"amount": "2000.00", "term": 30, "method": "daily_interest"})
    assert daily.status_code == 202 and (daily.get_json()["method"], daily.get_json()["term"]) == ("bullet", 30)
    too_much = channel.post(url + "/drawdowns", {"amount": "8100.00", "term": 3, "method": "equal_installment"})
    assert too_much.status_code == 422 and too_much.get_json()["errors"][0]["pointer"] == "/amount"
    assert "8000.00" in too_much.get_json()["errors"][0]["detail"]

    assert settle(api) == 3
    loans = channel.get(url + "/loans").get_json()["items"]
    loan_ids = [item["loan_id"] for item in reversed(loans)]
    assert [item["state"] for item in loans] == ["disbursed"] * 3 and None not in loan_ids
    assert books_balanced(api, loan_ids) == [Decimal("6000.00"), Decimal("4000.00"), Decimal("2000.00")]
    assert channel.get(url).get_json()["available"] == "8000.00"

    # the daily-interest drawdown is repaid after 10 days: 2,000 x 10.8% x 10 / 360 = 6.00 of interest
    on(api, "2026-03-12")
    close_days(api, date(2026, 3, 11))
    prepaid = channel.post(f"/api/v1/loans/{loan_ids[2]}/prepayments", {"on": "2026-03-12"})
    assert prepaid.status_code == 201, prepaid.get_json()
    assert Decimal(prepaid.get_json()["total"]) == Decimal("2000.00") + (Decimal(2000) * RATE * 10 / 360).quantize(FEN)
    assert channel.get(url).get_json()["available"] == "10000.00"

    # the first installment of the 6,000 drawdown: its principal comes back to the line
    on(api, "2026-04-02")
    close_days(api, date(2026, 4, 1))
    interest = (Decimal(6000) * RATE / 12).quantize(FEN)
    repaid = channel.post(f"/api/v1/loans/{loan_ids[0]}/repayments", {"amount": str(installment),
                                                                       "paid_on": "2026-04-02"})
    assert repaid.status_code == 201, repaid.get_json()
    principal_back = installment - interest
    assert Decimal(channel.get(url).get_json()["available"]) == Decimal("10000.00") + principal_back
    assert books_balanced(api, loan_ids) == [Decimal("6000.00") - principal_back, Decimal("4000.00"), 0]

    # the 4,000 interest-only drawdown's first interest (2 April) is left unpaid: a day later an early-warning
    # rule of the version in force freezes the line, and the next drawdown is refused saying so
    with api.app_context():
        session = session_of(api)
        publish_rule_set(session, {"rules": [
            {"code": "OVERDUE", "name": {"zh": "逾期", "en": "Overdue"}, "severity": "high",
             "signal": "days_past_due", "min_days_past_due": 1, "action": "freeze"}]}, actor="risk:wang")
        session.commit()
    on(api, "2026-04-03")
    close_days(api, date(2026, 4, 3))
    with api.app_context():
        session = session_of(api)
        (warning,) = scan(session, date(2026, 4, 3))
        session.commit()
        warning_id = warning.id
    assert channel.get(url).get_json()["state"] == "frozen"
    frozen = channel.post(url + "/drawdowns", {"amount": "500.00", "term": 3, "method": "equal_installment"})
    assert frozen.status_code == 409 and frozen.get_json()["errors"][0]["pointer"] == "/state"
    assert "frozen" in frozen.get_json()["detail"]
    # 4,000 x 10.8% / 12 = 36.00 of interest, paid two days late (within the three grace days: no penalty);
    # the operator handles the warning and unfreezes
    interest_due = (Decimal(4000) * RATE / 12).quantize(FEN)
    on(api, "2026-04-04")
    late = channel.post(f"/api/v1/loans/{loan_ids[1]}/repayments", {"amount": str(interest_due),
                                                                     "paid_on": "2026-04-04"})
    assert late.status_code == 201, late.get_json()
    with api.app_context():
        session = session_of(api)
        handle_warning(session, warning_id, actor="risk:li", outcome="handled", note="paid a day late")
        lifecycle.unfreeze(session, lifecycle.line_for_update(session, line["id"]), actor="risk:li",
                           reason="warning handled")
        session.commit()
    assert channel.get(f"/api/v1/loans/{loan_ids[1]}/schedule").get_json()["installments"][0]["state"] == "paid"
    assert channel.post(url + "/drawdowns", {"amount": "500.00", "term": 3, "method": "equal_installment"}
                        ).status_code == 202
    assert books_balanced(api, loan_ids) == [Decimal("6000.00") - principal_back, Decimal("4000.00"), 0]

    on(api, "2027-03-02")
    expired = channel.post(url + "/drawdowns", {"amount": "500.00", "term": 3, "method": "equal_installment"})
    assert expired.status_code == 409 and "past its last day 2027-03-01" in expired.get_json()["detail"]
    with api.app_context():
        session = session_of(api)
        assert [x.id for x in lifecycle.expire_lines(session, date(2027, 3, 2), actor="system:expiry")] == [
            line["id"]]
        session.commit()
    after = channel.get(url).get_json()
    assert (after["state"], after["available"]) == ("expired", "0.00")
