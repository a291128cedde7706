"""Signing in and out, the current user, CSRF, and the role guard every admin page goes through.

Flask-Login keeps the signed-in user's id and session version in the session and loads the
:class:`core.backoffice.users.User` per request through :func:`core.backoffice.users.signed_in_user`, so a
session revoked by signing out, a password, role or active change ends at its next request. Sign-in goes
through :func:`core.backoffice.signin.sign_in` (throttled per account and per address, audited); a session
ends after ``SESSION_IDLE_MINUTES`` without a request or ``SESSION_ABSOLUTE_HOURS`` after sign-in
(:class:`core.backoffice.signin.SessionLifetime`). The throttle's settings are ``SIGNIN_ACCOUNT_FAILURES``,
``SIGNIN_ADDRESS_FAILURES``, ``SIGNIN_WINDOW_MINUTES`` and ``SIGNIN_LOCKOUT_MINUTES``.

Flask-WTF's ``CSRFProtect`` checks every state-changing request of the app; only the channel API
blueprint (``api``, token-authenticated, no cookies) is exempt. The exemption is applied on the first
request so it holds whatever order the subsystems were registered in.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import CSRFProtect, FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from admin.i18n import LANGUAGES
from core.backoffice import audit
from core.backoffice.signin import SessionLifetime, SignInPolicy, sign_in
from core.backoffice.users import User, can, end_sessions, signed_in_user
from loanfactory.database import db_session

bp = Blueprint("lf_auth", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
               static_url_path="/lf-static")

API_BLUEPRINT = "api"
EXTENSION = "loanfactory.signin"
#: session keys: when the session signed in, and its last request (Unix seconds)
STARTED, SEEN = "lf_started", "lf_seen"


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        db = db_session()
        policy, _lifetime = current_app.extensions[EXTENSION]
        result = sign_in(db, form.username.data or "", form.password.data or "",
                         address=request.remote_addr or "", policy=policy)
        db.commit()
        if result.user is not None:
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            login_user(result.user)
            session.permanent = True
            session[STARTED] = session[SEEN] = int(time.time())
            return redirect(_safe_next(request.args.get("next")))
        if result.locked_until is not None:
            minutes = max(1, -(-int((result.locked_until - datetime.now(UTC)).total_seconds()) // 60))
            flash(_("Too many failed sign-ins: try again in %(minutes)s minutes or ask an administrator.",
                    minutes=minutes), "error")
        else:
            flash(_("Wrong username or password."), "error")
    return render_template("lf/login.html", form=form, languages=LANGUAGES)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        db = db_session()
        end_sessions(current_user)
        audit.record(db, actor=current_user.username, action="auth.logout", entity_type="user",
                     entity_id=current_user.id)
        db.commit()
    logout_user()
    return redirect(url_for("lf_auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> Response:
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    refresh()
    return redirect(_safe_next(request.args.get("next") or (request.referrer and urlsplit(request.referrer).path)))


def guard(permission: str) -> None:
    """Abort with 401/redirect when nobody is signed in and 403 when the user lacks ``permission``."""
    if not current_user.is_authenticated:
        abort(401)
    if not can(current_user, permission):
        abort(403)


def _load_user(token: str) -> User | None:
    return signed_in_user(db_session(), token)


def _end_expired_session() -> None:
    """Sign out a session past its idle or absolute lifetime; note the request time of a live one."""
    if "_user_id" not in session:
        return
    _policy, lifetime = current_app.extensions[EXTENSION]
    now = int(time.time())
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, int) or not isinstance(seen, int) or lifetime.expired(
            datetime.fromtimestamp(started, UTC), datetime.fromtimestamp(seen, UTC), datetime.fromtimestamp(now, UTC)):
        logout_user()
        for key in (STARTED, SEEN):
            session.pop(key, None)
        return
    if seen != now:
        session[SEEN] = now


def _minutes(app: Flask, key: str, default: float) -> timedelta:
    return timedelta(minutes=float(app.config.get(key, default)))


def _settings(app: Flask) -> tuple[SignInPolicy, SessionLifetime]:
    """The sign-in throttle and session lifetimes from ``app.config`` (defaults in the dataclasses)."""
    policy = SignInPolicy(account_failures=int(app.config.get("SIGNIN_ACCOUNT_FAILURES", 5)),
                          address_failures=int(app.config.get("SIGNIN_ADDRESS_FAILURES", 20)),
                          window=_minutes(app, "SIGNIN_WINDOW_MINUTES", 15),
                          lockout=_minutes(app, "SIGNIN_LOCKOUT_MINUTES", 15))
    lifetime = SessionLifetime(idle=_minutes(app, "SESSION_IDLE_MINUTES", 30),
                               absolute=timedelta(hours=float(app.config.get("SESSION_ABSOLUTE_HOURS", 12))))
    return policy, lifetime


def _exempt_api(csrf: CSRFProtect) -> Any:
    """A hook that exempts the API's blueprints (registered after this one) on the first request; an app
    cannot gain blueprints after that, so later requests skip the walk."""
    done: list[bool] = []

    def exempt_api_blueprints() -> None:
        if done:
            return
        for name, blueprint in current_app.blueprints.items():
            if name == API_BLUEPRINT or name.startswith(API_BLUEPRINT + "."):
                csrf.exempt(blueprint)
        done.append(True)
    return exempt_api_blueprints


def init_app(app: Flask) -> None:
    """Login manager, CSRF protection (API blueprint exempt) and the sign-in pages."""
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions[EXTENSION] = settings = _settings(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = settings[1].absolute
    app.before_request(_end_expired_session)
    manager = LoginManager()
    manager.login_view = "lf_auth.login"
    manager.login_message = ""
    manager.user_loader(_load_user)
    manager.init_app(app)
    csrf = app.extensions.get("csrf") or CSRFProtect()
    app.before_request(_exempt_api(csrf))
    if "csrf" not in app.extensions:
        csrf.init_app(app)
    app.register_blueprint(bp)
