"""Admin fixtures: an app on a fresh database, one user per role, signed-in clients with CSRF tokens."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.users import Role, User, hash_password
from loanfactory.app import create_app
from loanfactory.database import db_session

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
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"})
    with app.app_context():
        db = db_session()
        people = [(role.value, role) for role in Role]
        people += [("product_manager2", Role.PRODUCT_MANAGER), ("risk_officer2", Role.RISK_OFFICER)]
        for username, role in people:
            db.add(User(username=username, display_name=username, password_hash=password_hash(),
                        role_names=role.value, active=True))
        db.commit()
    return app


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    app = make_admin_app(f"sqlite:///{tmp_path}/admin.sqlite3")
    yield app


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


@pytest.fixture
def login(app: Flask) -> Callable[[str], Client]:
    def signed_in(username: str) -> Client:
        client = app.test_client()
        response = sign_in(client, username)
        assert response.status_code == 302, response.text
        wrapped = Client(client, username)
        wrapped.get("/admin/")
        return wrapped
    return signed_in


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., object]:
    """``sign_in(client, username, password=PASSWORD)``: post the sign-in form with its CSRF token."""
    return sign_in


@pytest.fixture(name="csrf_token")
def csrf_token_fixture() -> Callable[[str], str]:
    return csrf_token
