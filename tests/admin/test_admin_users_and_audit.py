"""Users, roles, four-eyes and the audit log in the kernel (no Flask)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.backoffice.audit import AuditEvent, events_for, jsonable, record
from core.backoffice.users import (
    PERMISSIONS,
    FourEyesError,
    PermissionDeniedError,
    Role,
    UnknownPermissionError,
    User,
    authenticate,
    can,
    create_user,
    require,
    require_second_user,
)
from core.errors import InvalidArgumentError


def test_password_is_stored_as_an_argon2id_hash_and_checked(sqlite_session):
    user = create_user(sqlite_session, username="li.na", password="long enough pw", roles=["risk_officer"])
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough pw" not in user.password_hash
    assert authenticate(sqlite_session, "li.na", "long enough pw") is user
    assert user.last_login_at is not None
    assert authenticate(sqlite_session, "li.na", "wrong password") is None
    assert authenticate(sqlite_session, "nobody", "long enough pw") is None


def test_a_deactivated_user_cannot_sign_in_or_act(sqlite_session):
    user = create_user(sqlite_session, username="wang", password="long enough pw", roles=["admin"])
    user.active = False
    assert authenticate(sqlite_session, "wang", "long enough pw") is None
    assert not can(user, "user.manage")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"username": " ", "password": "long enough pw", "roles": ["admin"]}, "username"),
    ({"username": "a", "password": "short", "roles": ["admin"]}, "password"),
    ({"username": "a", "password": "long enough pw", "roles": ["superuser"]}, "roles"),
    ({"username": "a", "password": "long enough pw", "roles": []}, "roles"),
])
def test_create_user_refuses_bad_input_naming_the_field(sqlite_session, kwargs, field):
    with pytest.raises(InvalidArgumentError) as caught:
        create_user(sqlite_session, **kwargs)
    assert caught.value.field == field


def test_a_username_is_taken_once(sqlite_session):
    create_user(sqlite_session, username="zhao", password="long enough pw", roles=["finance"])
    with pytest.raises(InvalidArgumentError, match="taken"):
        create_user(sqlite_session, username="zhao", password="long enough pw", roles=["finance"])


def test_the_auditor_holds_only_view_permissions():
    auditor = User(username="shen", role_names="auditor", active=True)
    allowed = {p for p in PERMISSIONS if can(auditor, p)}
    assert allowed and all(p.endswith(".view") for p in allowed)


def test_every_change_permission_has_a_holder_and_no_auditor():
    for permission, roles in PERMISSIONS.items():
        assert roles, permission
        if not permission.endswith(".view"):
            assert Role.AUDITOR not in roles, permission


def test_require_names_the_permission_refused():
    officer = User(username="qian", role_names="risk_officer", active=True)
    require(officer, "approval.decide")
    with pytest.raises(PermissionDeniedError) as caught:
        require(officer, "product.publish")
    assert caught.value.field == "permission" and "product.publish" in str(caught.value)
    with pytest.raises(PermissionDeniedError):
        require(None, "cockpit.view")


def test_a_misspelt_permission_is_an_error_not_a_refusal():
    with pytest.raises(UnknownPermissionError):
        can(User(username="x", role_names="admin", active=True), "product.pubish")


def test_four_eyes_refuses_the_maker_as_checker():
    maker = User(username="sun", role_names="product_manager", active=True)
    checker = User(username="zhou", role_names="product_manager", active=True)
    require_second_user("sun", checker)
    with pytest.raises(FourEyesError):
        require_second_user("sun", maker)


def test_an_audit_event_keeps_exact_before_and_after(db_session):
    record(db_session, actor="sun", action="loan.waive", entity_type="loan", entity_id=7,
           before={"penalty": Decimal("12.30"), "due": date(2026, 3, 1)},
           after={"penalty": Decimal("0.00"), "roles": {Role.FINANCE}}, comment="客户投诉")
    db_session.commit()
    (event,) = events_for(db_session, "loan", 7)
    assert event.before == {"penalty": "12.30", "due": "2026-03-01"}
    assert event.after == {"penalty": "0.00", "roles": ["finance"]}
    assert event.actor == "sun" and event.comment == "客户投诉"


def test_an_audit_event_rolls_back_with_the_change_it_describes(db_session):
    create_user(db_session, username="wu", password="long enough pw", roles=["admin"])
    record(db_session, actor="root", action="user.create", entity_type="user", entity_id="wu")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_an_audit_event_needs_an_actor(sqlite_session):
    with pytest.raises(InvalidArgumentError):
        record(sqlite_session, actor="", action="x", entity_type="y", entity_id=1)


def test_jsonable_turns_datetimes_into_iso_text():
    assert jsonable({"at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}) == {"at": "2026-01-02T03:04:00+00:00"}
