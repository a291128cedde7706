"""Signing in and out, the current user, CSRF, and the role guard every admin page goes through.

Flask-Login keeps the signed-in user's id in the session and loads the :class:`core.backoffice.users.User` per
request. Flask-WTF's ``CSRFProtect`` checks every state-changing request of the app; only the channel API
blueprint (``api``, token-authenticated, no cookies) is exempt. The exemption is applied on the first
request so it holds whatever order the subsystems were registered in.
"""

from __future__ import annotations

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
from core.backoffice.users import User, authenticate, can
from loanfactory.database import db_session

bp = Blueprint("lf_auth", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
               static_url_path="/lf-static")

API_BLUEPRINT = "api"


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
        user = authenticate(db, form.username.data or "", form.password.data or "")
        if user is None:
            audit.record(db, actor=(form.username.data or "?")[:64], action="auth.login_failed",
                         entity_type="user", entity_id=form.username.data or "?")
            db.commit()
            flash(_("Wrong username or password."), "error")
        else:
            audit.record(db, actor=user.username, action="auth.login", entity_type="user", entity_id=user.id)
            db.commit()
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("lf/login.html", form=form, languages=LANGUAGES)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        db = db_session()
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


def _load_user(user_id: str) -> User | None:
    try:
        user = db_session().get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.is_active else None


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
