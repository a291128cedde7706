"""Every screen renders for the user in front of it, whoever opened it before in the same process.

A template is compiled once per process; a permission check folded into it at compile time would show one
user's buttons to the next. Each screen below is opened by every role in turn, in an order that puts a
role holding the permission right before one lacking it and the other way round, and each role must see
exactly the actions its permissions allow. A refused action answers the admin's own 403 page in the
user's language, naming the roles that may do it, not the server's bare English "Forbidden".
"""

import re

import pytest
from admin_helpers import Client, build_world, make_admin_app, sign_in

from core.backoffice.users import PERMISSIONS, Role, User, can


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    return make_admin_app(f"sqlite:///{tmp_path_factory.mktemp('screens')}/screens.sqlite3")


@pytest.fixture(scope="module")
def world(shared_app):
    return build_world(shared_app)


#: screen -> (the permission to open it, [(a permission, the mark of what it allows on the page)])
SCREENS = {
    "/admin/loans/{loan}": ("loan.view", [
        ("loan.repay", 'id="form-repay"'), ("loan.prepay", 'id="form-prepay"'),
        ("loan.waive.request", 'id="form-waiver"'), ("loan.writeoff.request", 'id="form-write-off"'),
        ("pii.reveal", 'id="reveal-customer"')]),
    "/admin/reports/": ("report.view", [("report.generate", 'action="/admin/reports/generate"')]),
    "/admin/calendar/": ("calendar.view", [("calendar.edit", 'action="/admin/calendar/extend"')]),
    "/admin/products/": ("product.view", [("product.edit", 'id="new-product"')]),
    "/admin/products/{version}/review": ("product.view", [
        ("product.publish", 'action="/admin/products/{version}/publish"'),
        ("product.edit", 'action="/admin/products/{version}/clone"')]),
    "/admin/approvals/{task}": ("approval.view", [("pii.reveal", 'id="reveal-applicant"')]),
}
#: every role, then every role again in reverse: each neighbour pair is tried both ways
ORDER = [*Role, *reversed(Role)]


def _client(app, role: Role) -> Client:
    client = Client(app.test_client(), role.value)
    assert sign_in(client.client, role.value).status_code == 302
    return client


def _person(role: Role) -> User:
    return User(username=role.value, role_names=role.value, active=True)


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_a_screen_shows_each_user_their_own_actions_whoever_opened_it_first(shared_app, world, screen):
    clients = {role: _client(shared_app, role) for role in Role}
    url = screen.format(**world)
    opener, marks = SCREENS[screen]
    seen = {permission: set() for permission, _mark in marks}
    for role in ORDER:
        page = clients[role].get(url)
        if not can(_person(role), opener):
            assert page.status_code == 403, (role, url)
            continue
        assert page.status_code == 200, (role, url)
        for permission, mark in marks:
            shown = mark.format(**world) in page.text
            assert shown == can(_person(role), permission), (role, permission, url)
            seen[permission].add(shown)
    assert all(both == {True, False} for both in seen.values()), seen  # each mark was seen shown and hidden


def test_finance_sees_the_report_form_it_may_use_right_after_an_auditor_opened_the_page(shared_app, world):
    assert "generate" not in _client(shared_app, Role.AUDITOR).get("/admin/reports/").text.split("report-types")[1]
    assert 'action="/admin/reports/generate"' in _client(shared_app, Role.FINANCE).get("/admin/reports/").text


@pytest.mark.parametrize(("language", "words"), [("zh_CN", ("您无权执行此操作", "运营")),
                                                 ("en", ("You may not do this", "Operations"))])
def test_a_refusal_is_the_admins_own_page_in_the_users_language_naming_who_may(shared_app, world, language, words):
    auditor = _client(shared_app, Role.AUDITOR)
    auditor.client.get(f"/admin/lang/{language}")
    page = auditor.get(f"/admin/loans/{world['loan']}/prepay/quote?business_date=2026-02-15")
    assert page.status_code == 403
    assert "Forbidden" not in page.text and 'id="lf-error"' in page.text
    assert all(word in page.text for word in words)
    assert 'id="lf-current-user"' in page.text  # the admin's own layout
    roles = re.search(r'id="lf-error-roles">([^<]*)<', page.text).group(1)
    assert PERMISSIONS["loan.prepay"] == {Role.OPERATIONS, Role.FINANCE} and words[1] in roles
    missing = auditor.get("/admin/loans/999999")
    assert missing.status_code == 404 and 'id="lf-error"' in missing.text and "Not Found" not in missing.text
