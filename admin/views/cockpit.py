"""The cockpit (驾驶舱): the signed-in user's to-dos and the book's KPIs, the admin's home page."""

from __future__ import annotations

from typing import Any

from flask_admin import expose

from admin import kpis, todos
from admin.base import SecureIndexView
from core.debits.manual import success_rates
from loanfactory.database import db_session


class CockpitView(SecureIndexView):
    permission = "cockpit.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        figures = kpis.compute(db)
        return self.render("lf/cockpit.html", kpis=figures, todos=todos.for_current_user(db),
                           chart_data=figures.chart_data(), debits=success_rates(db, figures.day, figures.day))
