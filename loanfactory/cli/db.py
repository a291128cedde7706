"""``loanfactory db``: bring a database to the newest schema, or check it matches the models.

The schema is the core's and every loaded plugin's (each plugin's revisions are a branch of their own,
see :mod:`loanfactory.migrate`).
"""

from __future__ import annotations

import click
from alembic.util import CommandError

from loanfactory import migrate


@click.group()
def db() -> None:
    """Schema migrations (Alembic) of the database at DATABASE_URL."""


@db.command()
@click.option("--revision", default="heads", show_default=True,
              help="heads (the core and every plugin), a core revision, or one branch: PLUGIN@head.")
def upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    try:
        migrate.upgrade(revision=revision)
    except CommandError as error:  # an unknown revision, often a plugin's whose package is gone
        raise click.ClickException(f"{error} (see docs/operations.md, \"Upgrading the schema\")") from None
    click.echo(f"database at {revision}")


@db.command()
def check() -> None:
    """Exit 1 when the database's schema differs from the models, listing every difference."""
    changes = migrate.pending_changes()
    for change in changes:
        click.echo(repr(change))
    if changes:
        raise SystemExit(1)
    click.echo("schema matches the models")
