"""``loanfactory early-warning``: publish a version of the rules, and run the scan after end-of-day.

``publish FILE`` checks the rule set document and stores it as the next version (every problem is printed
with its JSON pointer, and nothing is stored); ``scan [--date D]`` applies the version in force to every
active or frozen credit line and prints the warnings raised (``--json`` for scripts).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from core.early_warning.rules import InvalidRulesError
from core.early_warning.scan import scan
from core.early_warning.versions import publish_rule_set
from core.products.problems import load_json
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.clock import today
from loanfactory.database import db_session


@click.group("early-warning")
def early_warning() -> None:
    """Early warning (贷中预警): the rules' versions and the scan."""


@early_warning.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True, help="Who publishes (recorded in the audit log).")
@with_appcontext
def publish_command(path: Path, actor: str) -> None:
    """Check PATH and store it as the next version of the rules."""
    session = db_session()
    try:
        published = publish_rule_set(session, load_json(path.read_text(encoding="utf-8")), actor=actor)
    except InvalidRulesError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    session.commit()
    click.echo(f"published version {published.version}: {len(published.rules)} rule(s)")


@early_warning.command("scan")
@click.option("--date", "on", help="The business date (YYYY-MM-DD); today's by default.")
@json_option
@with_appcontext
def scan_command(on: str | None, as_json: bool) -> None:
    """Apply the rules in force to every active or frozen credit line."""
    session = db_session()
    day = parse_date(on, "--date") if on else today()
    raised = scan(session, day)
    session.commit()
    rows = [{"id": w.id, "line_id": w.line_id, "rule": w.rule_code, "value": w.value, "action": w.action}
            for w in raised]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"warnings raised: {len(rows)}")
    for row in rows:
        click.echo(f"  line {row['line_id']}: {row['rule']} ({row['value']}) -> {row['action']}")
