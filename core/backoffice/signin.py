"""Signing in to the back office: the password check, throttled per account and per address, and audited.

Every wrong password is a :class:`LoginFailure` row (when, which username, from which address). An account
is locked once :attr:`SignInPolicy.account_failures` failures for its username fall within
:attr:`SignInPolicy.window`, counted since its last successful sign-in or unlock; an address is locked once
:attr:`SignInPolicy.address_failures` failures from it fall within the window, whatever the usernames. A
lock lasts :attr:`SignInPolicy.lockout` from the failure that tripped it, refuses even the right password,
and counts nothing while it lasts (so nobody can keep a colleague locked out for longer by hammering).
Usernames that do not exist are counted and locked like real ones, so the answers do not tell which exist.

:func:`sign_in` records the outcome in the audit log (``auth.login``, ``auth.login_failed``,
``auth.locked`` when a failure trips a lock, ``auth.login_locked`` for an attempt refused by one);
:func:`unlock` (``user.manage``) lifts an account's lock, audited as ``user.unlock``. Nothing here commits:
the caller commits whatever the outcome, so failures count.

Sessions: :class:`SessionLifetime` holds the idle and absolute lifetimes of a signed-in session and
:meth:`SessionLifetime.expired` is the rule the admin applies on every request; revocation (logout,
password, role or active change) is the session version of :mod:`core.backoffice.users`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, func, select
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from core.backoffice import audit
from core.backoffice.users import User, authenticate, require
from core.db.base import Base

#: how much of a username or an address is kept (the columns' width)
KEPT = 64


class LoginFailure(Base):
    """One wrong password (or unknown username): the count the throttle reads."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(KEPT), index=True)
    address: Mapped[str] = mapped_column(String(KEPT), index=True)


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures lock an account or an address, within what window, for how long."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SessionLifetime:
    """How long a signed-in session lasts without a request (``idle``) and at most (``absolute``)."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)

    def expired(self, started: datetime, last_seen: datetime, now: datetime) -> bool:
        """Whether a session started at ``started`` and last used at ``last_seen`` is over at ``now``."""
        return now - last_seen > self.idle or now - started > self.absolute


@dataclass(frozen=True)
class SignInResult:
    """What :func:`sign_in` decided: the user signed in, or ``None`` with ``locked_until`` when a lock
    refused the attempt (``None`` too for a plain wrong password)."""

    user: User | None
    locked_until: datetime | None = None


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back naive UTC datetimes)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lock_end(session: Session, column: InstrumentedAttribute[str], value: str, since: datetime, limit: int,
              policy: SignInPolicy, now: datetime) -> datetime | None:
    count, last = session.execute(select(func.count(LoginFailure.id), func.max(LoginFailure.at))
                                  .where(column == value, LoginFailure.at > since)).one()
    end = _utc(last) + policy.lockout if count >= limit and last is not None else None
    return end if end is not None and end > now else None


def account_locked_until(session: Session, username: str, policy: SignInPolicy,
                         now: datetime | None = None) -> datetime | None:
    """When the lock on the account ``username`` ends, or ``None`` when it is not locked at ``now``."""
    now = _utc(now or datetime.now(UTC))
    username = username.strip()[:KEPT]
    resets = session.execute(select(User.last_login_at, User.unlocked_at).where(User.username == username)).first()
    since = max([now - policy.window, *(_utc(moment) for moment in resets or () if moment is not None)])
    return _lock_end(session, LoginFailure.username, username, since, policy.account_failures, policy, now)


def locked_until(session: Session, username: str, address: str, policy: SignInPolicy,
                 now: datetime | None = None) -> datetime | None:
    """When the lock on ``username`` or on ``address`` ends, or ``None`` when neither is locked at ``now``."""
    now = _utc(now or datetime.now(UTC))
    ends = [account_locked_until(session, username, policy, now),
            _lock_end(session, LoginFailure.address, address[:KEPT], now - policy.window, policy.address_failures,
                      policy, now)]
    live = [end for end in ends if end is not None]
    return max(live) if live else None


def sign_in(session: Session, username: str, password: str, *, address: str, policy: SignInPolicy,
            now: datetime | None = None) -> SignInResult:
    """Check ``password`` unless ``username`` or ``address`` is locked; count and audit the outcome.

    The caller commits whatever the result (a failure must be counted).
    """
    now = _utc(now or datetime.now(UTC))
    name, address = username.strip()[:KEPT] or "?", (address or "unknown")[:KEPT]
    until = locked_until(session, name, address, policy, now)
    if until is not None:
        audit.record(session, actor=name, action="auth.login_locked", entity_type="user", entity_id=name,
                     after={"address": address, "locked_until": until}, at=now)
        return SignInResult(None, until)
    user = authenticate(session, name, password, now=now)
    if user is not None:
        audit.record(session, actor=user.username, action="auth.login", entity_type="user", entity_id=user.id,
                     after={"address": address}, at=now)
        return SignInResult(user)
    session.add(LoginFailure(at=now, username=name, address=address))
    session.flush()
    audit.record(session, actor=name, action="auth.login_failed", entity_type="user", entity_id=name,
                 after={"address": address}, at=now)
    until = locked_until(session, name, address, policy, now)
    if until is not None:
        audit.record(session, actor=name, action="auth.locked", entity_type="user", entity_id=name,
                     after={"address": address, "locked_until": until}, at=now)
    return SignInResult(None, until)


def unlock(session: Session, user: User, *, by: User, now: datetime | None = None) -> None:
    """Lift the lock on ``user``'s account (its failures so far no longer count); audited as ``user.unlock``.

    Raises:
        PermissionDeniedError: ``by`` may not manage users.
    """
    require(by, "user.manage")
    user.unlocked_at = _utc(now or datetime.now(UTC))
    audit.record(session, actor=by.username, action="user.unlock", entity_type="user", entity_id=user.id,
                 after={"username": user.username}, at=user.unlocked_at)
