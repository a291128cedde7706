"""Helpers of the admin tests: an app with one user per role, signed-in clients, a booked loan, a product.

Imported by ``conftest.py`` (fixtures) and by tests that build shared, module-scoped worlds.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from admin.schema_form import build, flatten
from core.backoffice.users import Role, User, hash_password
from core.customers.parties import Customer, find_by_id_number
from core.db.base import Base
from core.loans.contract import ServicingRules
from core.loans.disbursement import disburse
from core.products import product_schema
from core.products.problems import load_json
from core.products.versions import published_version
from core.schedule import LoanTerms
from loanfactory.app import create_app
from loanfactory.database import db_session, get_db

PASSWORD = "s3cret-pass-word"


@functools.cache
def password_hash() -> str:
    """One argon2 hash of :data:`PASSWORD` shared by every test user (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def make_admin_app(url: str) -> Flask:
    """An app on ``url`` with one user per role (plus a second product manager and risk officer).

    A SQLite ``url`` starts from a copy of a template database built once per test process (creating
    forty-odd tables costs more than a whole admin test on a loaded machine).
    """
    if url.startswith("sqlite:///"):
        shutil.copyfile(_template_database(), url[len("sqlite:///"):])
    else:
        _add_people(create_app(_config(url)))
    return create_app(_config(url))


def _config(url: str) -> dict[str, object]:
    return {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"}


def _add_people(app: Flask) -> None:
    with app.app_context():
        db = db_session()
        people = [(role.value, role) for role in Role]
        people += [("product_manager2", Role.PRODUCT_MANAGER), ("risk_officer2", Role.RISK_OFFICER)]
        for username, role in people:
            db.add(User(username=username, display_name=username, password_hash=password_hash(),
                        role_names=role.value, active=True))
        db.commit()


@functools.cache
def _template_database() -> str:
    path = os.path.join(tempfile.mkdtemp(prefix="lf-admin-template-"), "template.sqlite3")
    app = create_app(_config(f"sqlite:///{path}"))
    _add_people(app)
    engine = get_db(app).engine
    raw = engine.raw_connection()  # outside any transaction: the journal mode cannot change inside one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA journal_mode=DELETE")
        cursor.close()
    finally:
        raw.close()
    engine.dispose()
    return path


class Client:
    """A test client signed in as one user, posting forms with the page's CSRF token."""

    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        self.username = username
        self.token = ""

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        if response.status_code == 200 and "csrf_token" in response.text:
            self.token = csrf_token(response.text)
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        payload = {"csrf_token": self.token, **(data or {})}
        return self.client.post(url, data=payload, **kwargs)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_token(page.text)})


#: A published example of a valid resident ID number (GB 11643 check digit X).
ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
DISBURSED_ON = date(2026, 1, 15)


def book_loan(app: Flask, key: str = "loan-1", rules: ServicingRules | None = None,
              start: date = DISBURSED_ON) -> int:
    """A customer and a 10,000 CNY, 12-month, 14% equal-installment loan disbursed on ``start`` (2026-01-15)
    under ``rules`` (default: no prepayment window, no fees), booked under the consumer sample's published
    version (published first when it is not)."""
    from tests.api.conftest import publish_sample

    with app.app_context():
        published = published_version(db_session(), "CONSUMER_INSTALLMENT")
    version_id = published.id if published is not None else publish_sample(app, "consumer_installment")
    with app.app_context():
        db = db_session()
        customer = find_by_id_number(db, ID_NUMBER)
        if customer is None:
            customer = Customer(name="张三丰", id_number=ID_NUMBER, phone=PHONE, monthly_income=Decimal("20000"))
            db.add(customer)
            db.flush()
        terms = LoanTerms(principal=Decimal("10000"), annual_rate=Decimal("0.14"), periods=12,
                          start_date=start)
        loan = disburse(db, key=key, customer_id=customer.id, terms=terms, channel="offline", actor="system",
                        product_code="CONSUMER_INSTALLMENT", product_version_id=version_id, rules=rules)
        db.commit()
        return loan.id


def fingerprint(app: Flask) -> dict[str, str]:
    """A digest of every row of every table: equal before and after means nothing was inserted, updated or
    deleted anywhere (the test databases are small enough to read whole)."""
    with app.app_context():
        db = db_session()
        digests = {}
        for table in Base.metadata.sorted_tables:
            rows = db.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        return digests


SAMPLE = Path(__file__).resolve().parents[2] / "product_configs" / "consumer_installment.json"


def sample_form(code: str = "CASH_TEST") -> dict[str, str]:
    """What the generated editor posts for the consumer sample renamed ``code`` (reports plugin left out)."""
    document = load_json(SAMPLE.read_text(encoding="utf-8"))
    document.pop("$schema", None)
    document["code"] = code
    document["plugins"].pop("reports", None)
    return flatten(build(product_schema(), document))


def submitted_version(app: Flask, code: str = "CASH_TEST") -> int:
    """A version of the sample, created and submitted by ``product_manager``; its id."""
    client = app.test_client()
    sign_in(client, "product_manager")
    page = client.get("/admin/products/new")
    response = client.post("/admin/products/new", data={**sample_form(code), "_action": "submit", "_mode": "form",
                                                          "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text
    return int(response.location.rstrip("/").split("/")[-1])


def queue_application(app: Flask, amount: str = "30000.00", **applicant: object) -> int:
    """Publish the consumer sample (once) and apply through the channel API for ``amount``.

    With the shipped scorecard, 30,000 CNY waits for a risk officer; above 40,000 two must approve.
    Returns the application id.
    """
    from tests.api.conftest import APPLY, Channel, application_body, new_key, publish_sample

    with app.app_context():
        published = published_version(db_session(), "CONSUMER_INSTALLMENT")
    if published is None:
        publish_sample(app, "consumer_installment")
    seller = Channel(app.test_client(), new_key(app))
    body = seller.post(APPLY, application_body(amount, 6, **applicant)).get_json()
    assert body["state"] == "under_review", body
    return int(body["id"])


def build_world(app: Flask) -> dict[str, int]:
    """A loan, a product version in review, a queued application with its approval task and a pending
    penalty-waiver request: every kind of screen has something to show. Their ids by name."""
    from core.backoffice.audit import request_change
    from core.origination.approval import ApprovalTask

    loan_id = book_loan(app)
    version_in_review = submitted_version(app)
    application_id = queue_application(app)
    with app.app_context():
        db = db_session()
        operations = db.scalar(select(User).where(User.username == "operations"))
        change = request_change(db, maker=operations, kind="penalty_waiver", entity_type="loan", entity_id=loan_id,
                                params={"amount": "0.40", "business_date": "2026-03-01"})
        auditor_id = db.scalar(select(User.id).where(User.username == "auditor"))
        task_id = db.scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id))
        db.commit()
        return {"loan": loan_id, "version": version_in_review, "request": change.id, "user": auditor_id,
                "task": task_id}
