"""``loanfactory reports``: list the reports the installed plugins offer, and generate one into files.

``reports list`` asks every reporting plugin for its report types; ``reports generate CODE --month
2026-03`` (or ``--from``/``--to`` for a period report) calls the plugin that lists ``CODE`` through the
app's plugin manager, so the call is recorded and contained like any other, and writes its files into
``--out`` (the current directory by default). The plugin adds the group to ``loanfactory`` through
``register_commands``; the commands run in the command line's app context (``with_appcontext``) for its
configuration, database and plugin manager.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from core.errors import InvalidArgumentError
from core.plugins.types import ReportType
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins


def _month(value: str) -> tuple[date, date]:
    from plugins.reports.credit_file import month_end

    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError:
        raise InvalidArgumentError(f"--month: {value!r} is not a month (YYYY-MM)", field="--month",
                                   value=value) from None
    return first, month_end(first)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(f"{option}: {value!r} is not a date (YYYY-MM-DD)", field=option,
                                   value=value) from None


@click.group("reports")
def reports() -> None:
    """Regulatory and management reports (CSV and XLSX)."""


@reports.command("list")
@with_appcontext
def list_reports() -> None:
    """Every report type the installed plugins offer: plugin, code, period kind and title."""
    answers: dict[str, list[ReportType]] = get_plugins().broadcast("report_types")
    for plugin, types in sorted(answers.items()):
        for report in types:
            click.echo(f"{report.code:<24} {report.period:<6} {plugin:<12} {report.title}")


@reports.command("generate")
@click.argument("code")
@click.option("--month", default=None, help="The calendar month, YYYY-MM (monthly reports).")
@click.option("--from", "start", default=None, help="First day covered, YYYY-MM-DD (period reports).")
@click.option("--to", "end", default=None, help="Last day covered, YYYY-MM-DD (period reports).")
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False), help="Directory.")
@with_appcontext
def generate(code: str, month: str | None, start: str | None, end: str | None, out: str) -> None:
    """Generate report CODE for a month or a period and write its files."""
    if month is not None:
        period = _month(month)
    elif start is not None and end is not None:
        period = (_day(start, "--from"), _day(end, "--to"))
    else:
        raise InvalidArgumentError("--month: give --month YYYY-MM, or both --from and --to", field="--month")
    manager = get_plugins()
    owners = [name for name, types in manager.broadcast("report_types").items()
              if any(t.code == code for t in types)]
    if not owners:
        raise InvalidArgumentError(f"CODE: no installed plugin offers the report {code!r} "
                                   "(see loanfactory reports list)", field="CODE", value=code)
    session = db_session()
    files = manager.call(owners[0], "report_generate", session=session, subject=f"report:{code}",
                         report_type=code, period_start=period[0], period_end=period[1])
    session.commit()
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    for report_file in files:
        (directory / report_file.name).write_bytes(report_file.content)
        click.echo(str(directory / report_file.name))
