"""Outside the demo and the tests the app does not start on a missing or published secret; the demo's
session cookies cannot be forged with a key from the source."""

from __future__ import annotations

import base64

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from core.backoffice.users import Role, create_user
from core.customers import pii
from loanfactory.app import create_app
from loanfactory.database import db_session
from loanfactory.security import InsecureSettingsError
from plugins.sandbox_bank.callbacks import DEV_SECRET

PUBLISHED_SECRET_KEY = "dev-only-change-me"
GOOD = {
    "SECRET_KEY": "k" * 43,
    "PLUGIN_CONFIG": {"sandbox_bank": {"callback_secret": "b" * 40}},
}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.fixture
def production_env(monkeypatch):
    """Fit PII keys in the environment; each test spoils what it checks."""
    monkeypatch.setenv(pii.PII_KEY_ENV, "p1:" + _b64(b"p" * 32))
    monkeypatch.setenv(pii.BLIND_INDEX_KEY_ENV, _b64(b"i" * 32))
    return monkeypatch


def production(tmp_path, **config) -> Flask:
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3", "TESTING": False, **GOOD, **config})


def test_nothing_configured_refuses_to_start_naming_every_secret(tmp_path, production_env):
    production_env.delenv(pii.PII_KEY_ENV)
    production_env.delenv(pii.BLIND_INDEX_KEY_ENV)
    with pytest.raises(InsecureSettingsError) as refused:
        production(tmp_path, SECRET_KEY=None, PLUGIN_CONFIG={})
    message = str(refused.value)
    for name in ("SECRET_KEY", "LOANFACTORY_PII_KEY", "LOANFACTORY_BLIND_INDEX_KEY", "sandbox_bank: callback_secret"):
        assert name in message
    assert len(refused.value.value) == 4


def test_each_published_default_is_refused_by_name(tmp_path, production_env):
    production_env.setenv(pii.PII_KEY_ENV, "dev:" + _b64(pii._DEV_PII_KEY))
    production_env.setenv(pii.BLIND_INDEX_KEY_ENV, _b64(pii._DEV_INDEX_KEY))
    with pytest.raises(InsecureSettingsError) as refused:
        production(tmp_path, SECRET_KEY=PUBLISHED_SECRET_KEY,
                   PLUGIN_CONFIG={"sandbox_bank": {"callback_secret": DEV_SECRET}})
    assert refused.value.value == [
        "SECRET_KEY is a value published in the source",
        "LOANFACTORY_PII_KEY holds the development key published in the source",
        "LOANFACTORY_BLIND_INDEX_KEY is the development key published in the source",
        "sandbox_bank: callback_secret is the development secret published in the source",
    ]


def test_short_or_shared_keys_are_refused(tmp_path, production_env):
    production_env.setenv(pii.BLIND_INDEX_KEY_ENV, _b64(b"p" * 32))
    with pytest.raises(InsecureSettingsError) as refused:
        production(tmp_path, SECRET_KEY="short", PLUGIN_CONFIG={"sandbox_bank": {"callback_secret": "short"}})
    assert refused.value.value == [
        "SECRET_KEY must be at least 32 characters",
        "LOANFACTORY_BLIND_INDEX_KEY must differ from every key of LOANFACTORY_PII_KEY",
        "sandbox_bank: callback_secret must be at least 32 characters",
    ]


def test_fit_secrets_start_and_a_disabled_bank_needs_none(tmp_path, production_env):
    assert production(tmp_path).config["SESSION_COOKIE_SECURE"] is True
    production(tmp_path, PLUGIN_CONFIG={}, PLUGINS_DISABLED=["sandbox_bank"])


def test_the_demo_starts_without_configuration_on_a_random_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("LOANFACTORY_TESTING", raising=False)
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3", "DEMO": True})
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3", "DEMO": True})
    assert first.secret_key and len(first.secret_key) >= 32 and first.secret_key != second.secret_key
    with pytest.raises(InsecureSettingsError):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"})


def test_a_cookie_signed_with_the_published_key_does_not_open_the_demo_admin(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3", "DEMO": True})
    with app.app_context():
        user = create_user(db_session(), username="boss", password="a long password", roles=[Role.ADMIN])
        db_session().commit()
        user_id = user.get_id()
    forger = Flask("forger")
    forger.secret_key = PUBLISHED_SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    for claimed in (user_id, user_id.split(":")[0]):
        client = app.test_client()
        client.set_cookie("session", serializer.dumps({"_user_id": claimed, "_fresh": True}))
        response = client.get("/admin/users/")
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
