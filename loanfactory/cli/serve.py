"""``loanfactory serve``: the main job, the web app (channel API, admin, docs) on one port.

The embedded default runs Werkzeug's threaded server on the SQLite file under ``instance/`` with eager
Celery; production runs the same app under gunicorn (``gunicorn 'loanfactory.app:create_app()'``) with
``DATABASE_URL`` and a Celery broker set. ``--demo`` first seeds the demo data (:mod:`loanfactory.demo`)
and prints the users, the channel key and a first request to try.
"""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from loanfactory.app import create_app
from loanfactory.demo import DemoSeed, seed_demo


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


@click.command()
@click.option("--demo", is_flag=True, help="Seed the sample products, demo users and a channel key first.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(demo: bool, host: str, port: int) -> None:
    """Serve the channel API, the admin and the API docs."""
    app = create_app()
    if demo:
        _announce(seed_demo(app), f"http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False)
