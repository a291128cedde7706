"""Back-office users, their roles and what each role may do.

A :class:`User` signs in with a password kept only as an argon2id hash (argon2-cffi's defaults, rehashed
when the parameters move on). Each user holds one or more :class:`Role`\\ s. What a role may do is one
table, :data:`PERMISSIONS` (permission -> roles); :func:`can` reads it and :func:`require` raises
:class:`PermissionDeniedError` naming the permission, so a refusal means the same thing in the admin UI,
the CLI and any future caller. ``auditor`` holds only the ``*.view`` permissions: it sees everything and
changes nothing. :func:`require_second_user` is the four-eyes rule: the checker of a change is never its
maker.

The :class:`User` model has the four attributes Flask-Login reads (``is_active``, ``is_authenticated``,
``is_anonymous``, ``get_id``) as plain properties, so the kernel stays free of Flask. Sessions can be
revoked: ``get_id`` is ``"<id>:<session version>"``, what a signed-in session keeps, and
:func:`signed_in_user` honours it only while the user is active and the version unchanged.
:func:`end_sessions` bumps the version; signing out, :func:`set_password` and :func:`change_user` (roles,
disabling) call it, so every session of the user, on every device, ends at its next request.
Nothing here commits: the caller owns the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base
from core.errors import InvalidArgumentError, LoanFactoryError

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


class Role(StrEnum):
    """The back-office roles; the value is what the database and the UI store."""

    ADMIN = "admin"
    PRODUCT_MANAGER = "product_manager"
    RISK_OFFICER = "risk_officer"
    RISK_MANAGER = "risk_manager"
    FINANCE = "finance"
    OPERATIONS = "operations"
    AUDITOR = "auditor"


_ALL = frozenset(Role)
_VIEW_ALL = _ALL

#: permission -> the roles holding it. ``*.view`` permissions are read-only; everything else changes data.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "cockpit.view": _VIEW_ALL,
    "product.view": _VIEW_ALL,
    "product.edit": frozenset({Role.PRODUCT_MANAGER}),
    "product.publish": frozenset({Role.PRODUCT_MANAGER, Role.RISK_MANAGER}),
    "product.lifecycle": frozenset({Role.PRODUCT_MANAGER, Role.RISK_MANAGER}),
    "approval.view": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER, Role.ADMIN, Role.AUDITOR}),
    "approval.decide": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER}),
    "pii.reveal": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER, Role.OPERATIONS}),
    "loan.view": _VIEW_ALL,
    "customer.view": _VIEW_ALL,
    "customer.tag": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER, Role.OPERATIONS}),
    "customer.edit": frozenset({Role.RISK_MANAGER, Role.OPERATIONS}),
    "customer.documents": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER, Role.OPERATIONS}),
    "loan.repay": frozenset({Role.OPERATIONS, Role.FINANCE}),
    "loan.prepay": frozenset({Role.OPERATIONS, Role.FINANCE}),
    "loan.waive.request": frozenset({Role.OPERATIONS}),
    "loan.waive.approve": frozenset({Role.FINANCE, Role.RISK_MANAGER}),
    "loan.writeoff.request": frozenset({Role.RISK_MANAGER, Role.FINANCE}),
    "loan.writeoff.approve": frozenset({Role.FINANCE, Role.RISK_MANAGER}),
    "credit_line.view": _VIEW_ALL,
    "credit_line.change.request": frozenset({Role.RISK_OFFICER, Role.OPERATIONS}),
    "credit_line.change.approve": frozenset({Role.RISK_MANAGER}),
    "warning.handle": frozenset({Role.RISK_OFFICER, Role.RISK_MANAGER}),
    "loan.refund.request": frozenset({Role.OPERATIONS}),
    "loan.refund.approve": frozenset({Role.FINANCE}),
    "period.close.request": frozenset({Role.FINANCE}),
    "period.close.approve": frozenset({Role.FINANCE}),
    "period.reopen.request": frozenset({Role.FINANCE}),
    "period.reopen.approve": frozenset({Role.FINANCE, Role.ADMIN}),
    "report.view": frozenset({Role.FINANCE, Role.RISK_MANAGER, Role.ADMIN, Role.AUDITOR, Role.OPERATIONS}),
    "report.generate": frozenset({Role.FINANCE, Role.RISK_MANAGER, Role.OPERATIONS}),
    "plugin.view": _VIEW_ALL,
    "calendar.view": _VIEW_ALL,
    "calendar.edit": frozenset({Role.ADMIN, Role.OPERATIONS}),
    "user.view": frozenset({Role.ADMIN, Role.AUDITOR}),
    "user.manage": frozenset({Role.ADMIN}),
    "audit.view": frozenset({Role.ADMIN, Role.AUDITOR}),
}


class PermissionDeniedError(LoanFactoryError):
    """Raised by :func:`require` when none of the user's roles holds the permission (``field`` names it)."""


class FourEyesError(LoanFactoryError):
    """Raised by :func:`require_second_user` when the checker of a change is the user who made it."""


class UnknownPermissionError(LoanFactoryError):
    """Raised by :func:`can` for a permission missing from :data:`PERMISSIONS` (a typo must not pass)."""


class User(Base):
    """A back-office user: a unique login name, an argon2 hash, comma-separated roles, an active flag."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role_names: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unlocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def roles(self) -> frozenset[Role]:
        """The user's roles."""
        return frozenset(Role(name) for name in self.role_names.split(",") if name)

    @roles.setter
    def roles(self, roles: Iterable[Role | str]) -> None:
        self.role_names = ",".join(sorted(parse_roles(roles)))

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What a signed-in session keeps: the id and the session version (see :func:`signed_in_user`)."""
        return f"{self.id}:{self.session_version or 0}"

    def snapshot(self) -> dict[str, object]:
        """What the audit log keeps of a user (never the hash)."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "roles": sorted(self.roles),
            "active": self.is_active,
        }


def parse_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    """The :class:`Role` members named by ``roles``.

    Raises:
        InvalidArgumentError: a name is not a role, or no role is given (``field="roles"``).
    """
    parsed = set()
    for name in roles:
        try:
            parsed.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidArgumentError(f"roles: unknown role {name!r}; expected {known}", field="roles",
                                       value=name) from None
    if not parsed:
        raise InvalidArgumentError("roles: a user needs at least one role", field="roles")
    return frozenset(parsed)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``.

    Raises:
        InvalidArgumentError: the password is shorter than :data:`MIN_PASSWORD_LENGTH` (``field="password"``).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgumentError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters",
                                   field="password")
    return _hasher.hash(password)


def create_user(session: Session, *, username: str, password: str, roles: Iterable[Role | str],
                display_name: str = "") -> User:
    """Add a new active user to ``session`` (flushed, not committed).

    Raises:
        InvalidArgumentError: empty or taken ``username``, short ``password``, unknown or no ``roles``.
    """
    username = username.strip()
    if not username:
        raise InvalidArgumentError("username: must not be empty", field="username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidArgumentError(f"username: {username!r} is taken", field="username", value=username)
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password))
    user.roles = parse_roles(roles)
    user.active = True
    session.add(user)
    session.flush()
    return user


def end_sessions(user: User) -> None:
    """End every signed-in session of ``user`` (they hold the previous session version)."""
    user.session_version = (user.session_version or 0) + 1


def set_password(user: User, password: str) -> None:
    """Replace ``user``'s password hash (same length rule as :func:`hash_password`) and end its sessions."""
    user.password_hash = hash_password(password)
    end_sessions(user)


def change_user(user: User, *, roles: Iterable[Role | str] | None = None, active: bool | None = None,
                password: str | None = None) -> None:
    """Change ``user``'s roles, active flag or password (``None`` keeps it); any change of the three ends
    the user's sessions, so a demoted or disabled user keeps no open session with the old rights.

    Raises:
        InvalidArgumentError: unknown or no ``roles``, short ``password``.
    """
    before = (user.roles, user.is_active)
    if roles is not None:
        user.roles = parse_roles(roles)
    if active is not None:
        user.active = active
    if password:
        set_password(user, password)
    elif (user.roles, user.is_active) != before:
        end_sessions(user)


def signed_in_user(session: Session, token: str) -> User | None:
    """The user a session's ``token`` (:meth:`User.get_id`) signs in: active, with the same session version;
    ``None`` for anything else (a revoked session, a disabled user, a token of the old ``"<id>"`` form)."""
    user_id, sep, version = token.partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.is_active or (user.session_version or 0) != int(version):
        return None
    return user


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active user ``username`` if ``password`` matches its hash, else ``None``.

    A match records ``last_login_at`` and upgrades an outdated hash in place; the caller commits.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now or datetime.now(UTC)
    return user


def can(user: User | None, permission: str) -> bool:
    """Whether ``user`` (``None`` for nobody signed in) holds ``permission``.

    Raises:
        UnknownPermissionError: ``permission`` is not in :data:`PERMISSIONS`.
    """
    allowed = PERMISSIONS.get(permission)
    if allowed is None:
        raise UnknownPermissionError(f"permission: unknown permission {permission!r}", field="permission",
                                     value=permission)
    if user is None or not user.is_active:
        return False
    return bool(user.roles & allowed)


def require(user: User | None, permission: str) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` holds ``permission``."""
    if not can(user, permission):
        who = user.username if user is not None else "anonymous"
        raise PermissionDeniedError(f"permission: {who} may not {permission}", field="permission",
                                    value=permission)


def require_second_user(maker: str | None, checker: User) -> None:
    """Four-eyes: raise :class:`FourEyesError` when ``checker`` is the ``maker`` (a username) of the change."""
    if maker is not None and maker == checker.username:
        raise FourEyesError(f"checker: {checker.username} made this change and may not also approve it",
                            field="checker", value=checker.username)
