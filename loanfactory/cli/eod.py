"""``loanfactory eod``: run end-of-day for a business date, watch a run, and keep the business calendar.

``eod run --date D`` closes every pending business date up to ``D`` in order (catching up missed days)
with a progress bar per date. With the embedded default (no broker) the partitions are closed in this
process, or in ``--workers N`` local processes; with a broker configured
(``LOANFACTORY_CELERY__broker_url``, ``LOANFACTORY_CELERY__task_always_eager=false``) they are sent as one
task per partition to the workers started with ``celery -A loanfactory.worker worker``, and the bar follows
the run log in the database (whoever does the work, a run beat started included); a run that stalls is
resent (:mod:`loanfactory.tasks.eod`). Re-running a closed date does nothing. ``eod status`` shows the last
closed date, the open run's progress and whether it has stalled; ``eod calendar`` seeds the business
calendar the run refuses to go past.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from core.businessday.calendar import covered_until, seed_calendar
from core.businessday.closes import last_closed
from core.eod.runs import open_run
from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.database import db_session
from loanfactory.tasks.eod import run_locally, run_with_celery, stall_after


@click.group()
def eod() -> None:
    """End-of-day: accrual, due installments, penalty, delinquency and classification."""


class _Bars:
    """One click progress bar per business date."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.on: date | None = None
        self.shown = 0

    def __call__(self, on: date, done: int, total: int) -> None:
        if on != self.on:
            self.close()
            self.bar = click.progressbar(length=max(total, 1), label=f"EOD {on.isoformat()}", show_pos=True)
            self.bar.__enter__()
            self.on, self.shown = on, 0
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@eod.command("run")
@click.option("--date", "business_date", required=True, help="The business date to close (YYYY-MM-DD).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Local processes closing partitions in parallel (embedded mode).")
@click.option("--partition-size", default=None, type=click.IntRange(1), help="Loan ids per partition.")
@json_option
@with_appcontext
def run_command(business_date: str, workers: int, partition_size: int | None, as_json: bool) -> None:
    """Close every pending business date up to --date."""
    on = parse_date(business_date, "--date")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bars = _Bars()
    try:
        if app.extensions["celery"].conf.task_always_eager:
            report = run_locally(app, on, workers=workers, size=partition_size, progress=bars)
        else:
            report = run_with_celery(on, size=partition_size, progress=bars)
    finally:
        bars.close()
    summary: dict[str, Any] = {"closed": [d.isoformat() for d in report.dates], "loans": report.loans,
                               "entries": report.entries, "partitions": report.partitions_run}
    if as_json:
        echo_json(summary)
    elif report.dates:
        click.echo(f"closed {summary['closed'][0]}..{summary['closed'][-1]}: {report.loans} loan-days, "
                   f"{report.entries} entries, {report.partitions_run} partitions")
    else:
        click.echo(f"nothing to do: {on.isoformat()} is already closed")


@eod.command("calendar")
@click.option("--from", "start", required=True, help="First date to add (YYYY-MM-DD).")
@click.option("--until", "end", required=True, help="Last date to add (YYYY-MM-DD).")
@click.option("--holiday", "holidays", multiple=True, help="A public holiday (repeat the option).")
@click.option("--workday", "workdays", multiple=True, help="A make-up working day on a weekend (repeat).")
@with_appcontext
def calendar_command(start: str, end: str, holidays: tuple[str, ...], workdays: tuple[str, ...]) -> None:
    """Add the dates --from..--until to the business calendar (weekends off unless --workday)."""
    first, last = parse_date(start, "--from"), parse_date(end, "--until")
    rest = [parse_date(value, "--holiday") for value in holidays]
    work = [parse_date(value, "--workday") for value in workdays]
    session = db_session()
    added = seed_calendar(session, first, last, holidays=rest, workdays=work)
    session.commit()
    click.echo(f"added {added} dates; the calendar covers until {covered_until(session)}")


@eod.command("status")
@json_option
@with_appcontext
def status_command(as_json: bool) -> None:
    """The last closed business date, how far the calendar goes, and the open run's progress."""
    session = db_session()
    running = open_run(session)
    stalled = running is not None and running.stalled(clock.now(), stall_after())
    data: dict[str, Any] = {"last_closed": _iso(last_closed(session)), "calendar_until": _iso(covered_until(session)),
                            "running": running.as_json() if running else None, "stalled": stalled}
    if as_json:
        echo_json(data)
        return
    click.echo(f"last closed: {data['last_closed'] or 'never'}; calendar until: {data['calendar_until'] or '-'}")
    if running is not None:
        click.echo(f"running: {running.business_date} {running.done}/{running.partitions} partitions, last activity "
                   f"{running.last_activity.isoformat()}" + (" (STALLED)" if stalled else ""))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
