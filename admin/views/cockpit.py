"""The cockpit (驾驶舱): the signed-in user's to-dos and the book's KPIs, the admin's home page."""

from __future__ import annotations

from typing import Any

from flask_admin import expose

from admin.base import SecureIndexView


class CockpitView(SecureIndexView):
    permission = "cockpit.view"

    @expose("/")
    def index(self) -> Any:
        return self.render("lf/cockpit.html")
