"""Sessions end when they should: a cookie captured before sign-out, a password, role or active change no longer
opens the admin; idle and absolute lifetimes; failed sign-ins lock until an administrator unlocks."""

from __future__ import annotations

import pytest
from admin_helpers import PASSWORD, _config, sign_in
from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.backoffice.users import User
from loanfactory.app import create_app
from loanfactory.database import db_session


def captured(client) -> str:
    return client.client.get_cookie("session").value


def replay(app, cookie: str, url: str = "/admin/"):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(url)


def signed_out(response) -> bool:
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def user_id(app, username: str) -> int:
    with app.app_context():
        return db_session().scalar(select(User.id).where(User.username == username))


def test_a_cookie_captured_before_sign_out_no_longer_opens_the_admin(app, login):
    admin = login("admin")
    cookie = captured(admin)
    assert replay(app, cookie, "/admin/users/").status_code == 200
    admin.post("/admin/logout")
    assert signed_out(replay(app, cookie, "/admin/users/"))


@pytest.mark.parametrize("change", [
    {"roles": ["operations"], "active": "y", "password": "a brand new password"},
    {"roles": ["finance"], "active": "y"},
    {"roles": ["operations"]},
], ids=["password", "role", "disabled"])
def test_a_password_role_or_active_change_ends_the_users_sessions(app, login, change):
    victim = login("operations")
    cookie = captured(victim)
    admin = login("admin")
    admin.get(f"/admin/users/{user_id(app, 'operations')}/edit")
    assert admin.post(f"/admin/users/{user_id(app, 'operations')}/edit", change).status_code == 302
    assert signed_out(victim.get("/admin/"))
    assert signed_out(replay(app, cookie))


def test_an_unchanged_save_keeps_the_users_sessions(app, login):
    victim = login("operations")
    admin = login("admin")
    admin.get(f"/admin/users/{user_id(app, 'operations')}/edit")
    admin.post(f"/admin/users/{user_id(app, 'operations')}/edit", {"roles": ["operations"], "active": "y"})
    assert victim.get("/admin/").status_code == 200


def test_a_session_idle_too_long_or_too_old_ends(app, login):
    idle, old = login("admin"), login("auditor")
    with idle.client.session_transaction() as session:
        session["lf_seen"] -= 31 * 60
    with old.client.session_transaction() as session:
        session["lf_started"] -= 12 * 3600 + 1
    assert signed_out(idle.get("/admin/")) and signed_out(old.get("/admin/"))


def test_the_lifetimes_are_settings(app, login):
    strict = create_app({**_config(app.config["DATABASE_URL"]), "SESSION_IDLE_MINUTES": 5,
                         "SESSION_ABSOLUTE_HOURS": 1})
    assert strict.permanent_session_lifetime.total_seconds() == 3600
    client = strict.test_client()
    sign_in(client, "admin")
    with client.session_transaction() as session:
        session["lf_seen"] -= 6 * 60
    assert signed_out(client.get("/admin/"))


def test_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(app, login):
    client = app.test_client()
    for _ in range(6):
        assert sign_in(client, "finance", "wrong password!").status_code == 200
    refused = sign_in(client, "finance", PASSWORD)
    assert refused.status_code == 200 and "/admin/login" in refused.request.path
    auditor = login("auditor")
    assert "Unlock" not in auditor.get("/admin/users/?lang=en").text
    assert auditor.post(f"/admin/users/{user_id(app, 'finance')}/unlock").status_code == 403
    admin = login("admin")
    page = admin.get("/admin/users/")
    assert f"/admin/users/{user_id(app, 'finance')}/unlock" in page.text
    assert admin.post(f"/admin/users/{user_id(app, 'finance')}/unlock").status_code == 302
    assert sign_in(client, "finance", PASSWORD).status_code == 302
    with app.app_context():
        events = db_session().execute(select(AuditEvent.action, AuditEvent.actor)
                                      .where(AuditEvent.action.in_(["auth.locked", "user.unlock"]))).all()
    assert events == [("auth.locked", "finance"), ("user.unlock", "admin")]


def test_one_address_guessing_many_accounts_is_locked_out(app):
    throttled = create_app({**_config(app.config["DATABASE_URL"]), "SIGNIN_ADDRESS_FAILURES": 3})
    guesser = throttled.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for name in ("finance", "auditor", "operations"):
        sign_in(guesser, name, "wrong password!")
    assert sign_in(guesser, "admin", PASSWORD).status_code == 200
    colleague = throttled.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(colleague, "admin", PASSWORD).status_code == 302
