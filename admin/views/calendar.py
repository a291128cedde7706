"""The business calendar: a month at a time, a working or rest day per date, extended a year ahead.

Operations and administrators mark holidays and make-up working days (调休) and extend the calendar;
end-of-day refuses dates past its end. Every change is audited with the day's before and after.
"""

from __future__ import annotations

import calendar as month_grid
from datetime import date
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import select

from admin.base import SecureView
from core.businessday.calendar import CalendarDay, covered_until, seed_calendar
from core.errors import InvalidArgumentError, LoanFactoryError
from loanfactory import clock
from loanfactory.database import db_session


def _month(text: str | None) -> date:
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        today = clock.today()
        return date(today.year, today.month, 1)


def _day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise InvalidArgumentError(f"{field}: {text!r} is not a date (YYYY-MM-DD)", field=field) from None


class CalendarView(SecureView):
    permission = "calendar.view"

    @expose("/")
    def index(self) -> Any:
        first = _month(request.args.get("month"))
        last = date(first.year, first.month, month_grid.monthrange(first.year, first.month)[1])
        db = db_session()
        days = {row.day: row for row in db.scalars(select(CalendarDay).where(CalendarDay.day.between(first, last)))}
        weeks = month_grid.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        previous = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return self.render("lf/calendar.html", first=first, weeks=weeks, days=days, until=covered_until(db),
                           previous=previous, following=following)

    @expose("/day", methods=["POST"])
    def set_day(self) -> Any:
        self.require("calendar.edit")
        db = db_session()
        try:
            day = _day(request.form.get("day"), "day")
            row = db.get(CalendarDay, day)
            if row is None:
                raise InvalidArgumentError(f"day: {day} is not in the calendar; extend it first", field="day")
            before = {"is_business_day": row.is_business_day, "note": row.note}
            row.is_business_day = request.form.get("is_business_day") == "true"
            row.note = (request.form.get("note") or "").strip()[:80]
            self.audit("calendar.set_day", "business_calendar", day.isoformat(), before=before,
                       after={"is_business_day": row.is_business_day, "note": row.note})
            db.commit()
            flash(_("%(day)s saved.", day=day.isoformat()), "success")
        except LoanFactoryError as error:
            self.refuse(error)
            return redirect(url_for(".index"))
        return redirect(url_for(".index", month=day.strftime("%Y-%m")))

    @expose("/extend", methods=["POST"])
    def extend(self) -> Any:
        self.require("calendar.edit")
        db = db_session()
        try:
            until = _day(request.form.get("until"), "until")
            start = covered_until(db)
            start = date.fromordinal(start.toordinal() + 1) if start else clock.today()
            added = seed_calendar(db, start, until)
            self.audit("calendar.extend", "business_calendar", until.isoformat(),
                       after={"from": start, "until": until, "days_added": added})
            db.commit()
            flash(_("%(count)d days added.", count=added), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return redirect(url_for(".index"))
