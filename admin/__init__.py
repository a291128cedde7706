"""The back-office admin (Flask-Admin, Bootstrap 4), in Chinese by default and English on request.

``init_app(app)`` wires the languages (:mod:`admin.i18n`), sign-in and CSRF (:mod:`admin.auth`) and the
screens (:mod:`admin.views`). Every page requires a signed-in user holding the page's permission
(:mod:`core.backoffice.users`); every change is written to the audit log (:mod:`core.backoffice.audit`)
in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context

from admin import auth, editor_sections, i18n, labels
from admin.views.approvals import ApprovalsView
from admin.views.audit_log import AuditLogView
from admin.views.calendar import CalendarView
from admin.views.cockpit import CockpitView
from admin.views.credit_lines import CreditLinesView
from admin.views.customers import CustomersView
from admin.views.debits import DebitsView
from admin.views.finance import FinanceView
from admin.views.loans import LoansView
from admin.views.plugins import PluginsView
from admin.views.products import ProductsView
from admin.views.reports import ReportsView
from admin.views.users import UsersView
from core.backoffice.users import can
from loanfactory.documents import FORM_OVERHEAD, max_document_bytes

EXTENSION = "loanfactory.admin"


@pass_context
def _can(_context: Any, permission: str) -> bool:
    """``'permission'|lf_can`` in templates. It takes the context so that Jinja cannot fold it into a constant
    when it compiles a template (a filter of a literal is evaluated once, for whoever rendered first)."""
    return can(current_user, permission)


def _document_uploads() -> None:
    """Let a document upload's body be as large as a document (the app's ``MAX_CONTENT_LENGTH`` is for forms)."""
    if request.endpoint == "customers.upload_document":
        request.max_content_length = max_document_bytes() + FORM_OVERHEAD


def init_app(app: Flask) -> Admin:
    """Attach the admin to ``app`` at ``/admin/``."""
    i18n.init_app(app)
    app.before_request(_document_uploads)  # before the CSRF check reads the form with the app's limit
    auth.init_app(app)
    app.jinja_env.filters["lf_can"] = _can
    labels.init_app(app)
    app.jinja_env.globals["lf_sections"] = editor_sections.sections
    admin = Admin(app, name=_l("Loan Product Factory"), theme=Bootstrap4Theme(base_template="lf/master.html",
                                                                              fluid=True),
                  index_view=CockpitView(name=_l("Cockpit"), url="/admin", endpoint="admin"))
    admin.add_view(ProductsView(name=_l("Product factory"), endpoint="products"))
    admin.add_view(ApprovalsView(name=_l("Approval inbox"), endpoint="approvals"))
    admin.add_view(CustomersView(name=_l("Customers"), endpoint="customers"))
    admin.add_view(LoansView(name=_l("Loans"), endpoint="loans"))
    admin.add_view(DebitsView(name=_l("Automatic debits"), endpoint="debits"))
    admin.add_view(CreditLinesView(name=_l("Credit lines"), endpoint="credit_lines"))
    admin.add_view(ReportsView(name=_l("Reports"), endpoint="reports"))
    admin.add_view(FinanceView(name=_l("Month-end close"), endpoint="finance"))
    admin.add_view(CalendarView(name=_l("Business calendar"), endpoint="calendar", category=_l("System")))
    admin.add_view(PluginsView(name=_l("Plugins"), endpoint="plugins", category=_l("System")))
    admin.add_view(UsersView(name=_l("Users and roles"), endpoint="users", category=_l("System")))
    admin.add_view(AuditLogView(name=_l("Audit log"), endpoint="audit", category=_l("System")))
    app.extensions[EXTENSION] = admin
    return admin
