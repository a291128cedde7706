"""``loanfactory credit-lines bureau [--date D]``: report every revolving line (R1) and its loans (R4).

Sends each revolving line's account events of the date (``open``, ``monthly`` or ``close``:
:mod:`core.credit_lines.bureau`) to its product's bureau plugin, and prints how many were acknowledged. A
re-run of the same date is acknowledged with the same references and stores nothing new at the bureau.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.credit_lines.bureau import report_line
from core.credit_lines.models import CreditLine
from loanfactory.cli.common import parse_date
from loanfactory.clock import today
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins


@click.group("credit-lines")
def credit_lines() -> None:
    """Credit lines (额度): bureau reporting."""


@credit_lines.command("bureau")
@click.option("--date", "on", help="The report date (YYYY-MM-DD); today's business date by default.")
@with_appcontext
def bureau_command(on: str | None) -> None:
    """Report every revolving line and its drawdowns' loans to the bureau."""
    session = db_session()
    day = parse_date(on, "--date") if on else today()
    line_ids = list(session.scalars(select(CreditLine.id).where(CreditLine.revolving.is_(True))
                                    .order_by(CreditLine.id)))
    acknowledged = 0
    for line_id in line_ids:
        acknowledged += sum(1 for ack in report_line(session, get_plugins(), line_id, day) if ack.accepted)
        session.commit()
    click.echo(f"{len(line_ids)} line(s) reported for {day}: {acknowledged} account event(s) acknowledged")
