"""``loanfactory example-rules webhooks``: the webhooks the example signed, newest first.

The command runs in the command line's app context (``with_appcontext``): the app's configuration and
database, without the web faces. It never builds the app itself.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from loanfactory.database import db_session
from loanfactory_example_rules.models import SignedWebhook


@click.group("example-rules")
def example_rules() -> None:
    """The example plugin: its signed webhooks."""


@example_rules.command("webhooks")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1), help="How many, newest first.")
@with_appcontext
def webhooks(limit: int) -> None:
    """List the signed webhooks: when, the entity and its new state, the signature's start."""
    query = select(SignedWebhook).order_by(SignedWebhook.signed_at.desc(), SignedWebhook.id.desc()).limit(limit)
    rows = db_session().scalars(query).all()
    for row in rows:
        click.echo(f"{row.signed_at.isoformat()}  {row.entity}:{row.entity_id} -> {row.to_state}  "
                   f"{row.signature[:16]}")
    click.echo(f"{len(rows)} webhook(s)")
