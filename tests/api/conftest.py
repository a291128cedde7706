"""Fixtures of the channel API tests: an app per database, channel keys, a client that speaks as a channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.businessday.calendar import seed_calendar
from core.channels.keys import issue_api_key
from core.products.validate import read_document
from loanfactory.app import create_app
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from tests.api.contract import CheckedClient

SAMPLES = Path(__file__).resolve().parents[2] / "product_configs"
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: the payment plugins' clock in the tests that pay loans out: the bank settles on 2026-03-02
PAYOUT_DAY = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def sample(name: str) -> dict[str, Any]:
    """A shipped sample product document (``consumer_installment`` ...)."""
    document: dict[str, Any] = read_document(SAMPLES / f"{name}.json")
    return document


class Channel:
    """A test client that sends the channel's API key, and an Idempotency-Key on every POST."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.key = key

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"X-API-Key": self.key, **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, *, idempotency_key: str | None = "auto",
             headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        extra = dict(headers or {})
        if idempotency_key == "auto":
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            extra["Idempotency-Key"] = idempotency_key
        return self.client.post(path, json=json, headers=self.headers(extra), **kwargs)

    def delete(self, path: str) -> TestResponse:
        return self.client.delete(path, headers=self.headers())


def make_api_app(db_url: str, **config: Any) -> Flask:
    """An app on ``db_url``; webhooks may go to receivers on this machine (``API_WEBHOOKS_ALLOW_LOOPBACK``),
    where the tests run theirs; its test client checks every response against the OpenAPI document
    (:class:`tests.api.contract.CheckedClient`)."""
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "RATELIMIT_STORAGE_URI": "local://",
                      "API_WEBHOOKS_ALLOW_LOOPBACK": True, **config})
    app.test_client_class = CheckedClient  # every response checked against the API's document
    return app


def webhooks_sent(app: Flask) -> None:
    """Wait until the app's background webhook dispatcher has nothing left to run (the API does not wait)."""
    from api.webhooks import dispatcher

    assert dispatcher(app).wait_idle(60), "the webhook dispatcher is still busy after a minute"


def new_key(app: Flask, channel: str = "partner-app", scopes: list[str] | None = None, **kwargs: Any) -> str:
    with app.app_context():
        session = get_db(app).session()
        _client, key = issue_api_key(session, channel, scopes or ["*"], **kwargs)
        session.commit()
    return key


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on SQLite, for what is about HTTP rather than the database (keys, errors, documents)."""
    app = make_api_app(f"sqlite:///{tmp_path}/api.sqlite3")
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def db_app(db_url: str) -> Iterator[Flask]:
    """An app on each back end (SQLite and PostgreSQL), for what the database must guarantee."""
    app = make_api_app(db_url)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def channel(api_app: Flask) -> Channel:
    return Channel(api_app.test_client(), new_key(api_app))


@pytest.fixture
def db_channel(db_app: Flask) -> Channel:
    return Channel(db_app.test_client(), new_key(db_app))


def publish_sample(app: Flask, name: str, document: dict[str, Any] | None = None) -> int:
    """Draft, submit (maker) and publish (checker) a sample product; return the version id."""
    from core.products.versions import create_draft, publish, submit

    with app.app_context():
        session = get_db(app).session()
        version = create_draft(session, document or sample(name), actor="maker")
        submit(session, version, actor="maker")
        publish(session, version, actor="checker")
        session.commit()
        return version.id


@pytest.fixture
def consumer(api_app: Flask) -> int:
    """CONSUMER_INSTALLMENT published: 1,000-50,000 by 100, 3-24 months, equal installments."""
    return publish_sample(api_app, "consumer_installment")


#: the sandboxes; a generous plugin timeout, so a loaded test machine cannot turn a slow PDF into a failure
PAYMENT_PLUGINS: dict[str, Any] = {"PLUGINS_EXTRA": ["plugins.sandbox_bank", "plugins.local_esign"],
                                   "PLUGINS_TIMEOUT": 60}
APPLY = "/api/v1/products/CONSUMER_INSTALLMENT/applications"


def id_number(birth: str = "19900101", sequence: int = 5, region: str = "110101") -> str:
    """A resident ID number with a valid check digit (GB 11643: the check digit makes the sum work)."""
    from stdnum.cn import ric

    first = f"{region}{birth}{sequence:03d}"
    return first + ric.calc_check_digit(first + "0")


#: an applicant the sandbox bureau and the scorecard treat well (score 570, grade B: risk band 551-572)
GOOD_ID = id_number("19900101", 5)


def application_body(amount: str = "12000.00", term: int = 6, *, id_no: str = GOOD_ID,
                     **applicant: Any) -> dict[str, Any]:
    """A complete application a channel would send."""
    person = {"name": "张三", "id_number": id_no, "phone": "13812345678", "monthly_income": "20000.00",
              "monthly_debt_payments": "1000.00", "employment_years": 5, "housing": "own", "occupation": "skilled",
              "dependants": 1,
              "bank_account": {"bank_code": "ICBC", "account_number": "6222020200112233445", "holder_name": "张三"}}
    person.update(applicant)
    return {"amount": amount, "term": term, "method": "equal_installment", "purpose": "used_car",
            "applicant": person,
            "consents": {"credit_bureau_query": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "c-1",
                                                 "purpose": "loan approval"},
                         "personal_information": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "c-2"}}}


def selling(db_url: str, **config: Any) -> Iterator[Flask]:
    """An app with the payment and e-signature sandboxes and the consumer sample published (a fixture's body:
    ``yield from``)."""
    app = make_api_app(db_url, **PAYMENT_PLUGINS, **config)
    publish_sample(app, "consumer_installment")
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def selling_app(db_url: str) -> Iterator[Flask]:
    yield from selling(db_url)


@pytest.fixture
def seller(selling_app: Flask) -> Channel:
    return Channel(selling_app.test_client(), new_key(selling_app))


def to_disbursing(app: Flask, channel: Channel, body: dict[str, Any] | None = None) -> str:
    """Apply, accept, sign and send the payout through the API (the payment plugins' clock on
    :data:`PAYOUT_DAY`); return the application's URL."""
    get_plugins(app).clock = lambda: PAYOUT_DAY
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, date(2026, 1, 1), date(2026, 12, 31))
        session.commit()
    application = channel.post(APPLY, body or application_body()).get_json()
    url = f"/api/v1/applications/{application['id']}"
    channel.post(url + "/acceptance")
    contract = channel.get(url + "/contract").get_json()
    channel.post(url + "/contract/signature", {"signer_name": "张三", "sha256": contract["sha256"]})
    assert channel.post(url + "/disbursement").status_code == 202
    return url


def bank_callbacks(app: Flask) -> list[tuple[dict[str, str], bytes]]:
    """The sandbox bank settles what is due (five minutes after :data:`PAYOUT_DAY`) and hands over its signed
    callbacks, undelivered."""
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, PAYOUT_DAY.replace(minute=5), session) as bank:
            bank.settle_due()
            callbacks = [(dict(c.headers), c.body.encode()) for c in bank.undelivered_callbacks()]
        session.commit()
    return callbacks


def book_loan(app: Flask, channel: Channel, body: dict[str, Any] | None = None) -> int:
    """Apply, accept, sign and disburse through the API; the bank calls back; return the loan id."""
    url = to_disbursing(app, channel, body)
    (callback,) = bank_callbacks(app)
    headers, payload = callback
    assert app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=payload,
                                  headers=headers).status_code == 200
    loan_id: int = channel.get(url).get_json()["loan_id"]
    return loan_id
