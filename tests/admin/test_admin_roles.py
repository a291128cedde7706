"""Every role is refused what it may not do: 403, and not one row written anywhere.

The matrix below lists every state-changing action of the admin with the permission it needs; each role
tries every action it lacks. A role holding the permission is not tried here (the screen tests cover it).
"""

import pytest
from admin_helpers import Client, build_world, fingerprint, make_admin_app, sample_form, sign_in
from sqlalchemy import select

from core.backoffice.users import Role, User, can
from loanfactory.database import db_session

ACTIONS = [
    ("user.manage", "/admin/users/create", {"username": "intruder", "password": "long enough pw", "roles": "admin"}),
    ("user.manage", "/admin/users/{user}/edit", {"roles": "admin", "active": "y"}),
    ("calendar.edit", "/admin/calendar/day", {"day": "2026-05-09", "is_business_day": "true"}),
    ("calendar.edit", "/admin/calendar/extend", {"until": "2026-12-31"}),
    ("product.edit", "/admin/products/new", "sample"),
    ("product.edit", "/admin/products/{version}/clone", {}),
    ("product.publish", "/admin/products/{version}/publish", {}),
    ("product.publish", "/admin/products/{version}/return", {"reason": "不同意"}),
    ("product.lifecycle", "/admin/products/{version}/retire", {"reason": "下架"}),
    ("loan.repay", "/admin/loans/{loan}/repay", {"amount": "100.00", "business_date": "2026-02-10", "key": "r"}),
    ("loan.prepay", "/admin/loans/{loan}/prepay", {"quoted_total": "10116.67", "business_date": "2026-02-15",
                                                   "key": "p"}),
    ("loan.waive.request", "/admin/loans/{loan}/request/penalty_waiver", {"amount": "0.40",
                                                                            "business_date": "2026-03-01"}),
    ("loan.writeoff.request", "/admin/loans/{loan}/request/write_off", {"business_date": "2026-06-30"}),
    ("loan.waive.approve", "/admin/loans/requests/{request}", {"decision": "approve"}),
    ("pii.reveal", "/admin/loans/{loan}/reveal", {"reason": "好奇"}),
    ("pii.reveal", "/admin/approvals/{task}/reveal", {"reason": "好奇"}),
    ("approval.decide", "/admin/approvals/{task}/decide", {"decision": "approve", "comment": "ok"}),
    ("approval.decide", "/admin/approvals/{task}/return", {"comment": "请补充收入证明"}),
    ("approval.decide", "/admin/approvals/{task}/send-back", {"comment": "请再核"}),
    ("pii.reveal", "/admin/approvals/{task}/reveal-bureau", {"reason": "好奇"}),
    ("report.generate", "/admin/reports/generate", {"plugin": "reports", "report_type": "monthly_statistics",
                                                    "period_start": "2026-01-01", "period_end": "2026-01-31"}),
]

PAGES = [
    ("user.view", "/admin/users/"),
    ("audit.view", "/admin/audit/"),
    ("approval.view", "/admin/approvals/"),
    ("report.view", "/admin/reports/"),
    ("loan.prepay", "/admin/loans/{loan}/prepay/quote?business_date=2026-02-15"),
]


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    """One app for the whole matrix: refused actions write nothing, so the roles can share it."""
    return make_admin_app(f"sqlite:///{tmp_path_factory.mktemp('roles')}/roles.sqlite3")


@pytest.fixture(scope="module")
def world(shared_app):
    return build_world(shared_app)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_refused_what_it_may_not_do_and_nothing_changes(shared_app, world, role):
    app = shared_app
    person = User(username=role.value, role_names=role.value, active=True)
    client = Client(app.test_client(), role.value)
    assert sign_in(client.client, role.value).status_code == 302
    client.get("/admin/")
    refused = [(permission, url) for permission, url, _data in ACTIONS if not can(person, permission)]
    if role is Role.AUDITOR:
        assert len(refused) == len(ACTIONS)
    before = fingerprint(app)
    for permission, url, data in ACTIONS:
        if can(person, permission):
            continue
        payload = {**sample_form("ROLE_TEST"), "_action": "save", "_mode": "form"} if data == "sample" else data
        response = client.post(url.format(**world), payload)
        assert response.status_code == 403, (role, permission, url)
    for permission, url in PAGES:
        if not can(person, permission):
            assert client.get(url.format(**world)).status_code == 403, (role, url)
    assert fingerprint(app) == before
    if role is not Role.ADMIN:
        assert refused


def test_a_deactivated_user_is_signed_out_at_the_next_request(app, login):
    client = login("finance")
    with app.app_context():
        db = db_session()
        db.scalar(select(User).where(User.username == "finance")).active = False
        db.commit()
    assert client.client.get("/admin/").status_code == 302
