"""The base of every admin page: signed in, holding the page's permission, or refused.

Flask-Admin calls :meth:`SecureView.is_accessible` before every method of a view, so a view that sets
:attr:`permission` is closed to anyone without it: visitors are sent to the sign-in page, signed-in users
without the role get 403. Actions inside a page check their own permission with :meth:`SecureView.require`
(403 otherwise) and write an audit event with :meth:`SecureView.audit` in the same transaction as the
change. The index view (the cockpit) is guarded the same way.

A refusal or an error inside a page (400 such as a stale CSRF token, 403, 404, 405) is answered by
:meth:`Guarded.error_page`: the admin's own page, in the user's language, saying what happened and, for a
403, which roles may do it; never the server's bare English page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, BaseView
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from admin.labels import role_label
from admin.refusals import refusal_text
from core.backoffice import audit
from core.backoffice.users import PERMISSIONS, can
from core.errors import LoanFactoryError
from loanfactory.database import db_session


class Guarded:
    """The guard shared by :class:`SecureView` and :class:`SecureIndexView`."""

    permission = "cockpit.view"
    #: the HTTP errors a page answers with :meth:`error_page`
    ERROR_CODES = (400, 403, 404, 405)

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and can(current_user, self.permission))

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        if not current_user.is_authenticated:
            return redirect(url_for("lf_auth.login", next=request.full_path.rstrip("?")))
        abort(403, description=self.permission)

    @staticmethod
    def require(permission: str) -> None:
        """Abort with 403 (naming the roles that hold ``permission``) unless the signed-in user holds it."""
        if not can(current_user, permission):
            abort(403, description=permission)

    def create_blueprint(self, admin: Admin) -> Blueprint:
        """Flask-Admin's blueprint of the page, answering HTTP errors with :meth:`error_page`."""
        blueprint: Blueprint = super().create_blueprint(admin)  # type: ignore[misc]
        for code in self.ERROR_CODES:
            blueprint.register_error_handler(code, self.error_page)
        return blueprint

    def error_page(self, error: HTTPException) -> tuple[str, int]:
        """The admin's page for ``error``, translated; a 403 raised by :meth:`require` names the roles that
        hold the permission it lacked."""
        permission = error.description if error.code == 403 and error.description in PERMISSIONS else None
        roles = sorted(role_label(role.value) for role in PERMISSIONS[permission]) if permission else []
        page: str = self.render("lf/error.html", code=error.code, roles=roles,  # type: ignore[attr-defined]
                                csrf=isinstance(error, CSRFError))
        return page, error.code or 500

    @staticmethod
    def audit(action: str, entity_type: str, entity_id: object, *, before: Any = None, after: Any = None,
              comment: str = "") -> None:
        """Record an audit event by the signed-in user in the current transaction."""
        audit.record(db_session(), actor=current_user.username, action=action, entity_type=entity_type,
                     entity_id=entity_id, before=before, after=after, comment=comment)

    @staticmethod
    def refuse(error: LoanFactoryError) -> None:
        """Roll back the request's transaction and show the kernel's refusal to the user."""
        db_session().rollback()
        flash(refusal_text(error), "error")


class SecureView(Guarded, BaseView):
    """A Flask-Admin page closed to users without :attr:`permission`."""


class SecureIndexView(Guarded, AdminIndexView):
    """The admin's home page, closed like every other page."""
