"""``loanfactory applications expire``: the expiry sweep Celery beat runs, on demand.

Expires the approved applications whose offer lapsed unaccepted and the returned ones not resubmitted by
their deadline, in one transaction, and prints the ids (``--json`` for scripts). Safe to run at any time,
beside beat: a second run finds nothing.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from loanfactory.cli.common import echo_json, json_option
from loanfactory.tasks.expiry import expire_applications


@click.group()
def applications() -> None:
    """Applications: the sweep of lapsed offers, unanswered returns and expired credit lines."""


@applications.command("expire")
@json_option
@with_appcontext
def expire_command(as_json: bool) -> None:
    """Expire lapsed offers, returns not resubmitted in time and credit lines past their last day."""
    expired = expire_applications()
    if as_json:
        echo_json(expired)
        return
    for why, ids in (("offers not accepted", expired["offers"]), ("returns not resubmitted", expired["returns"]),
                     ("credit lines past their last day", expired["lines"])):
        click.echo(f"{why}: {len(ids)}" + (f" ({', '.join(map(str, ids))})" if ids else ""))
