"""``loanfactory pii``: personal data at rest.

* ``reencrypt``: after a new key was put first in ``LOANFACTORY_PII_KEY`` (the old one still behind it),
  rewrite every encrypted column of every table (the plugins' included) under the new key, in one
  transaction, and print the rows rewritten per table; when every count is 0 the old key can leave the ring.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.customers.pii import key_ring, reencrypt_all
from core.db.base import Base
from loanfactory.database import db_session


@click.group("pii")
def pii() -> None:
    """Personal data at rest: re-encrypt under the active key after a key rotation."""


@pii.command("reencrypt")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1), help="Rows read at a time.")
@with_appcontext
def reencrypt(batch: int) -> None:
    """Re-encrypt every value that is not under the active key of LOANFACTORY_PII_KEY."""
    session = db_session()  # the app loaded the plugins, whose tables joined the metadata
    counts = reencrypt_all(session, Base.metadata, batch)
    session.commit()
    click.echo(f"active key: {key_ring().active}")
    for table, rows in counts.items():
        click.echo(f"  {table}: {rows} row(s) re-encrypted")
