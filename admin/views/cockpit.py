"""The cockpit (驾驶舱): the signed-in user's to-dos, the book's KPIs and where end-of-day stands (the last
closed date, the open run's progress, and a warning when that run has stalled), the admin's home page."""

from __future__ import annotations

from typing import Any

from flask_admin import expose

from admin import kpis, todos
from admin.base import SecureIndexView
from core.businessday.closes import last_closed
from core.debits.manual import success_rates
from core.eod.runs import open_run
from loanfactory import clock
from loanfactory.database import db_session
from loanfactory.tasks.eod import stall_after


class CockpitView(SecureIndexView):
    permission = "cockpit.view"

    @expose("/")
    def index(self) -> Any:
        db = db_session()
        figures = kpis.compute(db)
        running = open_run(db)
        eod = {"last_closed": last_closed(db), "running": running,
               "stalled": running is not None and running.stalled(clock.now(), stall_after())}
        return self.render("lf/cockpit.html", kpis=figures, todos=todos.for_current_user(db),
                           chart_data=figures.chart_data(), eod=eod,
                           debits=success_rates(db, figures.day, figures.day))
