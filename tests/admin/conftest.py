"""Admin fixtures: an app on a fresh database, one user per role, signed-in clients with CSRF tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from admin_helpers import (
    Client,
    book_loan,
    csrf_token,
    fingerprint,
    make_admin_app,
    sample_form,
    sign_in,
    submitted_version,
)
from flask import Flask
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    app = make_admin_app(f"sqlite:///{tmp_path}/admin.sqlite3")
    yield app

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

@pytest.fixture
def sqlite_session(tmp_path) -> Iterator[Session]:
    """A session on a fresh SQLite database (for rules that do not depend on the back end)."""
    engine = make_engine(f"sqlite:///{tmp_path}/unit.sqlite3")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()

@pytest.fixture
def loan_id(app: Flask) -> int:
    return book_loan(app)

@pytest.fixture(name="fingerprint")
def fingerprint_fixture() -> Callable[[Flask], dict[str, int]]:
    return fingerprint

@pytest.fixture(name="sample_form")
def sample_form_fixture() -> Callable[..., dict[str, str]]:
    return sample_form

@pytest.fixture
def version_in_review(app: Flask) -> int:
    return submitted_version(app)
