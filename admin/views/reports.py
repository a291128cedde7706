"""Reports: every report the reporting plugins offer, generated for a period and downloaded.

The list comes from the ``report_types`` hook of every plugin; generating calls the plugin's
``report_generate`` inside the request's session (the plugin reads the books, writes nothing) and returns
its files, one file as itself, several as a ZIP. Each generation is audited with the files' names, sizes
and SHA-256 digests, so a file handed to a regulator can be matched to who produced it and when.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from typing import Any

from flask import flash, redirect, request, send_file, url_for
from flask_admin import expose

from admin.base import SecureView
from admin.refusals import refusal_text
from core.errors import InvalidArgumentError, LoanFactoryError
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins


def _day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise InvalidArgumentError(f"{field}: {text!r} is not a date (YYYY-MM-DD)", field=field) from None


class ReportsView(SecureView):
    permission = "report.view"

    @expose("/")
    def index(self) -> Any:
        offered = get_plugins().broadcast("report_types", session=db_session(), subject="admin:reports")
        db_session().commit()
        return self.render("lf/reports.html", offered=sorted(offered.items()))

    @expose("/generate", methods=["POST"])
    def generate(self) -> Any:
        self.require("report.generate")
        db = db_session()
        plugin = request.form.get("plugin", "")
        report_type = request.form.get("report_type", "")
        try:
            start = _day(request.form.get("period_start"), "period_start")
            end = _day(request.form.get("period_end"), "period_end")
            if end < start:
                raise InvalidArgumentError("period_end: the period ends before it starts", field="period_end")
            files = get_plugins().call(plugin, "report_generate", session=db, subject=f"report:{report_type}",
                                       report_type=report_type, period_start=start, period_end=end)
            self.audit("report.generate", "report", f"{plugin}:{report_type}",
                       after={"period_start": start, "period_end": end,
                              "files": [{"name": f.name, "bytes": len(f.content),
                                         "sha256": hashlib.sha256(f.content).hexdigest()} for f in files]})
            db.commit()
        except LoanFactoryError as error:
            db.rollback()
            flash(refusal_text(error), "error")
            return redirect(url_for(".index"))
        if len(files) == 1:
            only = files[0]
            return send_file(io.BytesIO(only.content), mimetype=only.media_type, as_attachment=True,
                             download_name=only.name)
        bundle = io.BytesIO()
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in files:
                archive.writestr(item.name, item.content)
        bundle.seek(0)
        return send_file(bundle, mimetype="application/zip", as_attachment=True,
                         download_name=f"{report_type}_{start.isoformat()}_{end.isoformat()}.zip")
