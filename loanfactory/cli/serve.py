"""``loanfactory serve``: the main job, the web app (channel API, admin, docs) on one port.

The embedded default runs Werkzeug's threaded server on the SQLite file under ``instance/`` with eager
Celery; production runs the same app under gunicorn (``gunicorn 'loanfactory.app:create_app()'``) with
``DATABASE_URL``, a Celery broker and the secrets set. ``--demo`` runs in demo mode (development secrets
allowed, :mod:`loanfactory.security`; webhooks may go to plain ``http://`` receivers, public ones still),
seeds the demo data (:mod:`loanfactory.demo`) and prints the users, the channel key and a first request to
try. Other commands run against the demo's database with ``LOANFACTORY_DEMO=true``.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from loanfactory.app import create_app
from loanfactory.database import db_session
from loanfactory.demo import DemoSeed, seed_demo
from loanfactory.security import QuietRequestHandler


def _announce(seed: DemoSeed, base: str) -> None:
    click.echo("Loan Product Factory demo")
    click.echo(f"  products published: {', '.join(seed.products) or 'none'}")
    for problem in seed.problems:
        click.echo(f"  sample not published: {problem}", err=True)
    click.echo("  back-office users (user / password / role):")
    for username, password, role in seed.users:
        click.echo(f"    {username:<28} {password:<30} {role}")
    click.echo(f"  channel API key (demo-app, every product): {seed.api_key}")
    click.echo(f"  admin:        {base}/admin/")
    click.echo(f"  API docs:     {base}/api/docs")
    click.echo(f"  try:          curl -s -H 'X-API-Key: {seed.api_key}' {base}/api/v1/products")
    click.echo("  commands:     LOANFACTORY_DEMO=true loanfactory sandbox-bank settle (demo mode, this database)")


@click.command()
@click.option("--demo", is_flag=True,
              help="Demo mode (development secrets allowed): seed the sample products, demo users and a channel key.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(demo: bool, host: str, port: int) -> None:
    """Serve the channel API, the admin and the API docs."""
    app = create_app({"DEMO": True} if demo else None)
    if demo:
        _announce(seed_demo(app), f"http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False, request_handler=QuietRequestHandler)


@click.group("api-keys")
def api_keys() -> None:
    """Channel API keys: issue (the key is shown once), list, revoke."""


@api_keys.command("issue")
@click.argument("channel")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="A product code the key may sell (repeat), or '*' for every product.")
@click.option("--name", default=None, help="A description (default: the channel code).")
@click.option("--rate-limit", default="600/minute", show_default=True, help="Requests allowed per key.")
@with_appcontext
def issue(channel: str, scopes: tuple[str, ...], name: str | None, rate_limit: str) -> None:
    """Issue a key for CHANNEL and print it (only its hash is stored)."""
    from core.channels.keys import issue_api_key

    session = db_session()
    client, key = issue_api_key(session, channel, list(scopes), name=name, rate_limit=rate_limit)
    session.commit()
    click.echo(f"{key}\n(prefix {client.key_prefix}; store it now, it cannot be shown again)")


@api_keys.command("list")
@with_appcontext
def list_keys() -> None:
    """Every key: prefix, channel, scopes, rate limit, active."""
    from sqlalchemy import select

    from core.channels.keys import ApiClient

    for client in db_session().scalars(select(ApiClient).order_by(ApiClient.id)):
        state = "active" if client.active else "revoked"
        click.echo(f"{client.key_prefix}  {client.channel:<20} {','.join(client.scopes):<40} "
                   f"{client.rate_limit:<14} {state}")


@api_keys.command("revoke")
@click.argument("prefix")
@with_appcontext
def revoke_key(prefix: str) -> None:
    """Revoke the key whose public prefix is PREFIX."""
    from sqlalchemy import select

    from core.channels.keys import ApiClient, revoke
    from core.errors import InvalidArgumentError

    session = db_session()
    client = session.scalars(select(ApiClient).where(ApiClient.key_prefix == prefix)).one_or_none()
    if client is None:
        raise InvalidArgumentError(f"PREFIX: no key with prefix {prefix!r}", field="PREFIX", value=prefix)
    revoke(client)
    session.commit()
    click.echo(f"revoked {prefix} ({client.channel})")
