"""Finance's month-end page (财务月结): provisions by both methods side by side, the allowance's coverage, the
closed periods and the trial balance by GL code at the end of a day. Read-only; every figure is the kernel's
(:mod:`core.finance`); closing a month is done under dual control from the command line (docs/ledger.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_admin import expose
from sqlalchemy import select

from admin.base import SecureView
from admin.kpis import today
from core.finance.general_ledger import general_ledger
from core.finance.provision_posting import provision_report
from core.ledger.periods import ClosedPeriod
from loanfactory.database import db_session


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return today()


class FinanceView(SecureView):
    permission = "report.view"

    @expose("/")
    def index(self) -> Any:
        day = _day(request.args.get("day"))
        db = db_session()
        return self.render("lf/finance.html", day=day, report=provision_report(db, day),
                           periods=list(db.scalars(select(ClosedPeriod).order_by(ClosedPeriod.first_day.desc()))),
                           trial=general_ledger(db, through=day).by_gl())
