"""``loanfactory debits``: the due run of automatic debits, and revoking a borrower's authorisation.

``debits run`` makes one due run (:mod:`loanfactory.tasks.debits`) for ``--date`` (default: the business
date) at ``--hour`` (default: the hour now in the lender's zone): it writes the instructions whose time has come,
sends them in batches (``--workers N`` local processes side by side) and asks after those left without an
answer. Run it twice and the second run writes nothing new. With a broker configured, beat runs the same
job hourly (``celery -A loanfactory.worker beat``). ``debits revoke --loan ID --reason TEXT`` records the
borrower's withdrawal of the authorisation (audited); no debit of the loan follows.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.debits import authorisations
from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.clock import today
from loanfactory.database import db_session
from loanfactory.tasks.debits import run_locally


@click.group()
def debits() -> None:
    """Automatic debits (代扣): the due run and the borrower's authorisation."""


@debits.command("run")
@click.option("--date", "business_date", default=None, help="The business date (YYYY-MM-DD); default today's.")
@click.option("--hour", default=None, type=click.IntRange(0, 23), help="The local hour of the run; default now.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Local processes sending batches side by side.")
@json_option
@with_appcontext
def run_command(business_date: str | None, hour: int | None, workers: int, as_json: bool) -> None:
    """Write the debit instructions due now, send them in batches, ask after silent ones."""
    on = parse_date(business_date, "--date") if business_date else today()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = run_locally(app, on, hour=hour, workers=workers, progress=None if as_json else click.echo)
    if as_json:
        echo_json({"date": on.isoformat(), **report.as_json()})
        return
    click.echo(f"{on}: sent {report.sent} instruction(s) in {report.batches} batch(es); "
               f"{report.queried} answered by query")
    for failure in report.failures:
        click.echo(f"  failed batch {failure}", err=True)


@debits.command("revoke")
@click.option("--loan", "loan_id", required=True, type=int, help="The loan whose authorisation ends.")
@click.option("--reason", required=True, help="Why (the borrower's words, the ticket).")
@click.option("--actor", required=True, help="Who records it (a staff username).")
@with_appcontext
def revoke_command(loan_id: int, reason: str, actor: str) -> None:
    """Record that the borrower revoked the debit authorisation of a loan."""
    session = db_session()
    authorisation = authorisations.revoke(session, loan_id=loan_id, reason=reason, actor=actor,
                                          now=clock.now().astimezone(clock.zone()))
    session.commit()
    click.echo(f"loan {loan_id}: debit authorisation revoked at {authorisation.revoked_at}")
