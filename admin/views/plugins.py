"""The plugins page: every loaded plugin with its version, origin and hooks, and the latest calls."""

from __future__ import annotations

from typing import Any

from flask_admin import expose
from sqlalchemy import select

from admin.base import SecureView
from core.plugins.manager import PluginCall
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins

RECENT_CALLS = 50


class PluginsView(SecureView):
    permission = "plugin.view"

    @expose("/")
    def index(self) -> Any:
        plugins = get_plugins().listing()
        calls = list(db_session().scalars(select(PluginCall).order_by(PluginCall.id.desc()).limit(RECENT_CALLS)))
        return self.render("lf/plugins.html", plugins=plugins, calls=calls)
