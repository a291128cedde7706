"""``loanfactory db``: bring a database to the newest schema, or check it matches the models."""

from __future__ import annotations

import click

from loanfactory import migrate


@click.group()
def db() -> None:
    """Schema migrations (Alembic) of the database at DATABASE_URL."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    migrate.upgrade(revision=revision)
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
