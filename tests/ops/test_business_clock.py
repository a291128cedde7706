"""One business clock: at 00:14 in Shanghai on a UTC server (16:14 UTC the day before) the quote, the booking,
the loan's schedule, the payout order and the admin all work on the lender's date, not the server's.

Worked example: on 2026-12-08 00:14 Asia/Shanghai (2026-12-07 16:14 UTC), 12,000.00 over 6 months in equal
installments, started today, falls due first one month on: 2027-01-08. The server's own date is 2026-12-07,
whose month-on is 2027-01-07: a face that asked the operating system would show that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from flask import Flask

from core.businessday.calendar import seed_calendar
from core.businessday.clock import LENDER_ZONE, BusinessClock, local_date, set_lender_zone, zone_named
from core.errors import InvalidArgumentError
from loanfactory import clock
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from tests.api.conftest import APPLY, PAYMENT_PLUGINS, Channel, application_body, make_api_app, new_key, publish_sample

MIDNIGHT_UTC = datetime(2026, 12, 7, 16, 14, tzinfo=UTC)
SHANGHAI_DAY = date(2026, 12, 8)


@pytest.fixture
def utc_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in UTC, as servers do, at 16:14 UTC (00:14 the next day in Shanghai)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    with time_machine.travel(MIDNIGHT_UTC, tick=True):
        yield
    monkeypatch.undo()
    time.tzset()


def _app(tmp_path, **config) -> Flask:
    app = make_api_app(f"sqlite:///{tmp_path}/clock.sqlite3", **PAYMENT_PLUGINS, **config)
    publish_sample(app, "consumer_installment")
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, date(2026, 1, 1), date(2027, 12, 31))
        session.commit()
    return app


def test_the_whole_path_at_00_14_shanghai_on_a_utc_server_uses_the_lenders_date(utc_server, tmp_path) -> None:
    assert date.today() == date(2026, 12, 7), "the server's own date is still yesterday"
    app = _app(tmp_path)
    channel = Channel(app.test_client(), new_key(app))
    first_due = (SHANGHAI_DAY + relativedelta(months=1)).isoformat()

    quote = channel.post("/api/v1/products/CONSUMER_INSTALLMENT/quotes",
                         {"amount": "12000.00", "term": 6, "method": "equal_installment"}, idempotency_key=None)
    assert quote.status_code == 200, quote.get_json()
    assert quote.get_json()["installments"][0]["due_date"] == first_due == "2027-01-08"

    application = channel.post(APPLY, application_body()).get_json()
    url = f"/api/v1/applications/{application['id']}"
    with app.app_context():  # the approved offer was priced on the lender's date too
        from core.applications.models import Application
        from core.origination.approved import offer_of

        stored = get_db(app).session().get(Application, application["id"])
        assert offer_of(stored).contract.terms.start_date == SHANGHAI_DAY
    assert channel.post(url + "/acceptance").status_code == 200
    contract = channel.get(url + "/contract").get_json()
    assert channel.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]}
                        ).status_code == 200
    assert channel.post(url + "/disbursement").status_code == 202
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, get_plugins(app).clock(), session) as bank:
            bank.settle_due()
            callbacks = [(dict(c.headers), c.body.encode()) for c in bank.undelivered_callbacks()]
        session.commit()
    ((headers, payload),) = callbacks
    assert app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=payload,
                                  headers=headers).status_code == 200
    loan_id = channel.get(url).get_json()["loan_id"]
    loan = channel.get(f"/api/v1/loans/{loan_id}").get_json()
    schedule = channel.get(f"/api/v1/loans/{loan_id}/schedule").get_json()["installments"]
    assert loan["disbursed_on"] == SHANGHAI_DAY.isoformat()
    assert schedule[0]["due_date"] == first_due
    with app.app_context():
        from admin import kpis

        assert kpis.today() == clock.today() == SHANGHAI_DAY
        assert get_plugins(app).clock().date() == SHANGHAI_DAY


def test_a_lender_in_another_zone_works_on_its_own_date(utc_server, tmp_path) -> None:
    app = _app(tmp_path, BUSINESS_TIMEZONE="America/New_York")
    try:
        with app.app_context():
            assert clock.today() == date(2026, 12, 7)  # 11:14 in New York
            assert clock.clock_of().start_of(date(2026, 12, 7)) == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
        # the kernel's rules given only an instant take its date in the deployment's zone too
        assert local_date(MIDNIGHT_UTC) == date(2026, 12, 7)
    finally:
        set_lender_zone(LENDER_ZONE)
    assert local_date(MIDNIGHT_UTC) == SHANGHAI_DAY


def test_a_pinned_business_date_wins_over_the_clock(tmp_path) -> None:
    app = _app(tmp_path, API_BUSINESS_DATE="2026-03-01")
    with app.app_context():
        assert clock.today() == date(2026, 3, 1)


def test_an_unknown_zone_stops_the_app_naming_the_setting(tmp_path) -> None:
    with pytest.raises(InvalidArgumentError, match="BUSINESS_TIMEZONE"):
        make_api_app(f"sqlite:///{tmp_path}/x.sqlite3", BUSINESS_TIMEZONE="Mars/Olympus")
    with pytest.raises(InvalidArgumentError, match="API_BUSINESS_DATE"):
        make_api_app(f"sqlite:///{tmp_path}/y.sqlite3", API_BUSINESS_DATE="tomorrow")


def test_the_clock_turns_instants_into_the_lenders_dates() -> None:
    shanghai = BusinessClock(zone_named("Asia/Shanghai"))
    assert shanghai.date_of(MIDNIGHT_UTC) == SHANGHAI_DAY
    assert shanghai.date_of(MIDNIGHT_UTC - timedelta(minutes=15)) == date(2026, 12, 7)  # 23:59 in Shanghai
    assert shanghai.start_of(SHANGHAI_DAY) == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert BusinessClock(pinned=date(2026, 1, 5)).today() == date(2026, 1, 5)
