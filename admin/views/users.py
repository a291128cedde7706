"""Users and roles: list, create, change roles, deactivate, reset a password, lift a sign-in lock (admin
only; auditors read). Changing roles, the active flag or the password ends the user's open sessions."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from admin.auth import EXTENSION as SIGNIN
from admin.base import SecureView
from core.backoffice import signin
from core.backoffice.users import MIN_PASSWORD_LENGTH, PERMISSIONS, Role, User, change_user, create_user
from core.errors import LoanFactoryError
from loanfactory.database import db_session

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.PRODUCT_MANAGER: _l("Product manager"),
    Role.RISK_OFFICER: _l("Risk officer"),
    Role.RISK_MANAGER: _l("Risk manager"),
    Role.FINANCE: _l("Finance"),
    Role.OPERATIONS: _l("Operations"),
    Role.AUDITOR: _l("Auditor (read-only)"),
}


class RoleField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Length(max=128)])
    roles = RoleField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])


class RolesForm(FlaskForm):
    roles = RoleField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    active = BooleanField(_l("Active"))
    password = PasswordField(_l("New password (leave empty to keep)"))


class UsersView(SecureView):
    permission = "user.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        users = list(db.scalars(select(User).order_by(User.username)))
        policy, _lifetime = current_app.extensions[SIGNIN]
        locks = {user.id: signin.account_locked_until(db, user.username, policy) for user in users}
        permissions = sorted(PERMISSIONS.items())
        return self.render("lf/users/list.html", users=users, form=UserForm(), role_labels=ROLE_LABELS,
                           permissions=permissions, roles=list(Role), locks=locks, unlock_form=FlaskForm())

    @expose("/<int:user_id>/unlock", methods=["POST"])
    def unlock(self, user_id: int) -> Any:
        self.require("user.manage")
        db = db_session()
        user = db.get(User, user_id)
        if user is None:
            return self.render("lf/not_found.html"), 404
        if FlaskForm().validate_on_submit():
            signin.unlock(db, user, by=current_user)
            db.commit()
            flash(_("User %(name)s may sign in again.", name=user.username), "success")
        return redirect(url_for(".index"))

    @expose("/create", methods=["POST"])
    def create(self) -> Any:
        self.require("user.manage")
        form = UserForm()
        if not form.validate_on_submit():
            for field, errors in form.errors.items():
                flash(f"{form[field].label.text}: {'; '.join(errors)}", "error")
            return redirect(url_for(".index"))
        db = db_session()
        try:
            user = create_user(db, username=form.username.data or "", password=form.password.data or "",
                               roles=form.roles.data or [], display_name=form.display_name.data or "")
            self.audit("user.create", "user", user.id, after=user.snapshot())
            db.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".index"))

    @expose("/<int:user_id>/edit", methods=["GET", "POST"])
    def edit(self, user_id: int) -> Any:
        db = db_session()
        user = db.get(User, user_id)
        if user is None:
            return self.render("lf/not_found.html"), 404
        form = RolesForm(data={"roles": sorted(user.roles), "active": user.is_active})
        if request.method == "POST":
            self.require("user.manage")
            form = RolesForm()
            if form.validate_on_submit():
                before = user.snapshot()
                try:
                    change_user(user, roles=form.roles.data or [], active=bool(form.active.data),
                                password=form.password.data or None)
                    self.audit("user.update", "user", user.id, before=before,
                               after={**user.snapshot(), "password_changed": bool(form.password.data)})
                    db.commit()
                    flash(_("User %(name)s updated.", name=user.username), "success")
                    return redirect(url_for(".index"))
                except LoanFactoryError as error:
                    self.refuse(error)
        return self.render("lf/users/edit.html", user=user, form=form)
