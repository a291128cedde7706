"""The whole path as a channel walks it, on PostgreSQL: quote, apply, automatic approval, contract and
signature, disbursement completed by the bank's signed callback, three months of end-of-day with one late
installment, repayments, a partial prepayment and the pay-off; the ledger and the webhooks checked at
each step.

The loan: 12,000.00 over 6 months, equal installments at 14% a year (monthly rate 14%/12), plus a service
fee of 0.20% of the principal (24.00) per installment, disbursed on 2026-03-02. numpy-financial's
``pmt(0.14/12, 6, -12000)`` is 2,082.46, so each installment is 2,106.46 with the fee, and installment 1
is due on 2026-04-02.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import numpy_financial as npf
import pytest
from flask import Flask

from api.webhooks import dispatch_webhooks
from core.businessday.calendar import seed_calendar
from core.channels.webhooks import verify_signature
from core.eod.run import run_eod
from core.ledger.projection import loan_balances
from core.ledger.reports import trial_balance
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from tests.api.conftest import (
    APPLY,
    PAYMENT_PLUGINS,
    Channel,
    application_body,
    make_api_app,
    new_key,
    publish_sample,
    webhooks_sent,
)
from tests.api.contract import component_problems

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISBURSED = date(2026, 3, 2)


class Receiver:
    """A channel's webhook endpoint on 127.0.0.1: keeps every delivery (headers and raw body)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.deliveries]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def bank_app(postgres_url: str) -> Iterator[Flask]:
    yield from app_selling_on(postgres_url)


def app_selling_on(url: str) -> Iterator[Flask]:
    """An app on ``url`` selling the consumer sample through the sandboxes, its calendar laid for 2026 and its
    plugins' clock at 2026-03-02 10:00 in Shanghai (the body of a fixture)."""
    app = make_api_app(url, **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, date(2026, 1, 1), date(2026, 12, 31))
        session.commit()
    get_plugins(app).clock = lambda: datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    yield app
    get_db(app).engine.dispose()


def close_days(app: Flask, through: date) -> None:
    """Run end-of-day up to ``through`` and let the webhook dispatcher pick up what it changed."""
    webhooks_sent(app)
    with app.app_context():
        session = get_db(app).session()
        run_eod(session, through)
        session.commit()
        dispatch_webhooks()


def books(app: Flask, loan_id: int) -> tuple[Decimal, dict[str, Decimal]]:
    with app.app_context():
        session = get_db(app).session()
        balance = trial_balance(session)
        return balance.difference, loan_balances(session, loan_id).as_dict()


def settle_and_call_back(app: Flask) -> list[Any]:
    """The bank settles its orders and sends its signed callbacks to our endpoint, as the bank would."""
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, datetime(2026, 3, 2, 10, 5, tzinfo=SHANGHAI), session) as bank:
            bank.settle_due()
            callbacks = [(dict(cb.headers), cb.body.encode()) for cb in bank.undelivered_callbacks()]
        session.commit()
    return [app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=body, headers=headers)
            for headers, body in callbacks]


@pytest.mark.postgres
def test_a_loan_from_quote_to_pay_off_as_a_channel_sees_it(bank_app: Flask, receiver: Receiver) -> None:
    channel = Channel(bank_app.test_client(), new_key(bank_app))
    hook = channel.post("/api/v1/webhooks", {"url": receiver.url, "events": ["application.*", "loan.*"]}).get_json()

    quote = channel.post("/api/v1/products/CONSUMER_INSTALLMENT/quotes",
                         {"amount": "12000.00", "term": 6, "method": "equal_installment",
                          "start_date": DISBURSED.isoformat()}).get_json()
    quoted_installment = Decimal(str(round(npf.pmt(0.14 / 12, 6, -12000), 2))) + Decimal("24.00")
    assert quoted_installment == Decimal("2106.46")  # a quote is priced at the product's default rate
    assert {i["total"] for i in quote["installments"][:-1]} == {"2106.46"}
    # the decision prices by risk band: the applicant scores 570 (grade B), whose band borrows at 11%
    installment = Decimal(str(round(npf.pmt(0.11 / 12, 6, -12000), 2))) + Decimal("24.00")
    assert installment == Decimal("2088.65")

    applied = channel.post(APPLY, application_body("12000.00", 6))
    assert applied.status_code == 201
    application = applied.get_json()
    assert application["state"] == "approved"
    webhooks_sent(bank_app)
    assert receiver.types()[-1] == "application.approved"

    app_url = f"/api/v1/applications/{application['id']}"
    assert channel.post(app_url + "/acceptance").get_json()["decision"]["accepted_at"]
    contract = channel.get(app_url + "/contract").get_json()
    assert "media_type" in contract, contract
    assert contract["media_type"] == "application/pdf" and not contract["signed"]
    signed = channel.post(app_url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    assert signed.status_code == 200 and [s["role"] for s in signed.get_json()["signatures"]] == ["borrower",
                                                                                                 "lender"]
    payout = channel.post(app_url + "/disbursement")
    assert payout.status_code == 202 and payout.get_json()["state"] == "disbursing"
    (callback,) = settle_and_call_back(bank_app)
    assert callback.status_code == 200 and callback.get_json()["status"] == "succeeded"
    loan_id = channel.get(app_url).get_json()["loan_id"]
    loan_url = f"/api/v1/loans/{loan_id}"
    loan = channel.get(loan_url).get_json()
    assert loan["state"] == "active" and loan["disbursed_on"] == "2026-03-02" and loan["principal"] == "12000.00"
    webhooks_sent(bank_app)
    assert receiver.types()[-4:] == ["application.contract_signed", "application.disbursing", "loan.active",
                                     "application.disbursed"]
    difference, balances = books(bank_app, loan_id)
    assert difference == 0 and balances["principal"] == Decimal("12000.00")

    schedule = channel.get(loan_url + "/schedule").get_json()["installments"]
    assert schedule[0]["due_date"] == "2026-04-02" and Decimal(schedule[0]["principal"]) + Decimal(
        schedule[0]["interest"]) + Decimal(schedule[0]["fee"]) == installment

    # the product accepts prepayment from installment 3's due date (2026-06-02) on
    early = channel.post(loan_url + "/prepayment-quotes", {"on": "2026-03-10"}, idempotency_key=None)
    assert early.status_code == 409 and early.get_json()["errors"][0]["pointer"] == "/on"

    # month 1: paid on the due date
    close_days(bank_app, date(2026, 4, 1))
    first = channel.post(loan_url + "/repayments", {"amount": "2088.65", "paid_on": "2026-04-02"})
    assert first.status_code == 201, first.get_json()
    close_days(bank_app, date(2026, 5, 1))
    assert channel.get(loan_url + "/schedule").get_json()["installments"][0]["state"] == "paid"

    # month 2: installment 2 (due 2026-05-02) is paid 18 days late, after the 3 grace days
    close_days(bank_app, date(2026, 5, 20))
    late = channel.get(loan_url).get_json()
    assert late["state"] == "overdue" and late["days_past_due"] == 18 and late["bucket"] == "M1"
    assert "loan.overdue" in receiver.types()
    owed = channel.get(loan_url + "/balances").get_json()
    assert Decimal(owed["penalty"]) > 0, "penalty interest runs on the overdue principal"
    difference, balances = books(bank_app, loan_id)
    assert difference == 0 and balances["penalty"] == Decimal(owed["penalty"])
    due_now = Decimal(owed["interest"]) + Decimal(owed["fee"]) + Decimal(owed["penalty"]) + Decimal(
        schedule[1]["principal"])
    repaid = channel.post(loan_url + "/repayments", {"amount": str(due_now), "paid_on": "2026-05-21"})
    assert repaid.status_code == 201 and repaid.get_json()["loan_state"] == "active", repaid.get_json()
    dispatch_webhooks_in(bank_app)
    assert "loan.active" in receiver.types()

    # month 3: on time again, then a partial prepayment of 2,000.00 keeping the term
    close_days(bank_app, date(2026, 6, 1))
    assert channel.post(loan_url + "/repayments", {"amount": "2088.65", "paid_on": "2026-06-02"}).status_code == 201
    close_days(bank_app, date(2026, 6, 9))
    quoted = channel.post(loan_url + "/prepayment-quotes", {"amount": "2000.00", "on": "2026-06-10"},
                          idempotency_key=None).get_json()
    assert quoted["principal"] == "2000.00" and Decimal(quoted["fee"]) == Decimal("10.00")  # 0.5% of 2,000
    before = due_of(channel.get(loan_url + "/schedule").get_json()["installments"][4])
    partial = channel.post(loan_url + "/prepayments", {"amount": "2000.00", "on": "2026-06-10", "mode": "keep_term"})
    assert partial.status_code == 201 and partial.get_json()["loan_state"] == "active", partial.get_json()
    after = due_of(channel.get(loan_url + "/schedule").get_json()["installments"][4])
    assert after < before, "keep_term lowers the installments left"
    difference, balances = books(bank_app, loan_id)
    assert difference == 0

    # pay off the rest
    close_days(bank_app, date(2026, 6, 19))
    payoff = channel.post(loan_url + "/prepayments", {"on": "2026-06-20"})
    assert payoff.status_code == 201 and payoff.get_json()["loan_state"] == "prepaid_closed", payoff.get_json()
    difference, balances = books(bank_app, loan_id)
    assert difference == 0
    assert all(balances[bucket] == 0 for bucket in ("principal", "interest", "fee", "penalty"))
    final = channel.get(loan_url + "/balances").get_json()
    assert final["total"] == "0.00"
    dispatch_webhooks_in(bank_app)
    assert receiver.types()[-1] == "loan.prepaid_closed"

    assert receiver.types() == [
        "application.draft", "application.submitted", "application.under_review", "application.approved",
        "application.accepted", "application.contract_signed", "application.disbursing", "loan.active",
        "application.disbursed", "loan.overdue", "loan.active", "loan.prepaid_closed"]
    # every delivery is signed with the subscription's secret, names its delivery id, and is the document's
    # WebhookPayload (the ``webhooks`` section)
    assert [p for event in receiver.events() for p in component_problems("WebhookPayload", event)] == []
    for headers, body in receiver.deliveries:
        assert verify_signature(hook["secret"], headers["loanfactory-signature"], body)
        assert headers["loanfactory-event"] == json.loads(body)["type"]
    events = channel.get(f"/api/v1/webhooks/{hook['id']}/events?per_page=100").get_json()["items"]
    assert {e["status"] for e in events} == {"delivered"}
    assert len(events) == len(receiver.deliveries)


def due_of(row: dict[str, str]) -> Decimal:
    return Decimal(row["principal"]) + Decimal(row["interest"]) + Decimal(row["fee"])


def dispatch_webhooks_in(app: Flask) -> None:
    webhooks_sent(app)
    with app.app_context():
        dispatch_webhooks()
