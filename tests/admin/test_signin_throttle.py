"""The sign-in rules on both back ends: failures lock an account or an address for a while, a success or an
administrator's unlock starts the count again, and every outcome is audited. Clocks are passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.backoffice.signin import SignInPolicy, account_locked_until, sign_in, unlock
from core.backoffice.users import PermissionDeniedError, Role, create_user

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
POLICY = SignInPolicy(account_failures=3, address_failures=5, window=timedelta(minutes=15),
                      lockout=timedelta(minutes=15))
RIGHT = "the right password"


@pytest.fixture
def people(db_session):
    clerk = create_user(db_session, username="clerk", password=RIGHT, roles=[Role.OPERATIONS])
    boss = create_user(db_session, username="boss", password=RIGHT, roles=[Role.ADMIN])
    auditor = create_user(db_session, username="eyes", password=RIGHT, roles=[Role.AUDITOR])
    db_session.commit()
    return clerk, boss, auditor


def attempt(session, password, *, at, username="clerk", address="10.0.0.1"):
    result = sign_in(session, username, password, address=address, policy=POLICY, now=at)
    session.commit()
    return result


def actions(session):
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_three_failures_lock_the_account_even_against_the_right_password_until_the_lockout_ends(db_session, people):
    for second in range(3):
        assert attempt(db_session, "wrong", at=T0 + timedelta(seconds=second)).user is None
    refused = attempt(db_session, RIGHT, at=T0 + timedelta(seconds=10))
    assert refused.user is None and refused.locked_until == T0 + timedelta(seconds=2, minutes=15)
    assert actions(db_session) == ["auth.login_failed"] * 3 + ["auth.locked", "auth.login_locked"]
    assert attempt(db_session, RIGHT, at=T0 + timedelta(minutes=16)).user is not None


def test_attempts_during_a_lock_are_not_counted_so_the_lock_is_not_prolonged(db_session, people):
    for second in range(3):
        attempt(db_session, "wrong", at=T0 + timedelta(seconds=second))
    for minute in range(1, 15):
        assert attempt(db_session, "wrong", at=T0 + timedelta(minutes=minute)).locked_until is not None
    assert attempt(db_session, RIGHT, at=T0 + timedelta(minutes=15, seconds=3)).user is not None


def test_a_success_starts_the_count_again(db_session, people):
    attempt(db_session, "wrong", at=T0)
    attempt(db_session, "wrong", at=T0 + timedelta(seconds=1))
    assert attempt(db_session, RIGHT, at=T0 + timedelta(seconds=2)).user is not None
    attempt(db_session, "wrong", at=T0 + timedelta(seconds=3))
    attempt(db_session, "wrong", at=T0 + timedelta(seconds=4))
    assert attempt(db_session, RIGHT, at=T0 + timedelta(seconds=5)).user is not None


def test_an_administrator_unlocks_an_account_and_it_is_audited(db_session, people):
    clerk, boss, auditor = people
    for second in range(3):
        attempt(db_session, "wrong", at=T0 + timedelta(seconds=second))
    assert account_locked_until(db_session, "clerk", POLICY, T0 + timedelta(minutes=1)) is not None
    with pytest.raises(PermissionDeniedError):
        unlock(db_session, clerk, by=auditor, now=T0 + timedelta(minutes=1))
    unlock(db_session, clerk, by=boss, now=T0 + timedelta(minutes=1))
    db_session.commit()
    assert account_locked_until(db_session, "clerk", POLICY, T0 + timedelta(minutes=1)) is None
    assert attempt(db_session, RIGHT, at=T0 + timedelta(minutes=2)).user is not None
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlock")).one()
    assert event.actor == "boss" and event.entity_id == str(clerk.id)


def test_an_address_trying_many_usernames_is_locked_but_others_are_not(db_session, people):
    for n in range(5):
        attempt(db_session, "guess", username=f"nobody{n}", at=T0 + timedelta(seconds=n))
    assert attempt(db_session, RIGHT, at=T0 + timedelta(seconds=9)).locked_until is not None
    assert attempt(db_session, RIGHT, address="10.0.0.2", at=T0 + timedelta(seconds=9)).user is not None


def test_unknown_usernames_lock_like_real_ones(db_session, people):
    for second in range(3):
        attempt(db_session, "guess", username="ghost", at=T0 + timedelta(seconds=second))
    assert attempt(db_session, "guess", username="ghost", at=T0 + timedelta(seconds=5)).locked_until is not None
