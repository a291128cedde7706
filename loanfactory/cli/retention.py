"""``loanfactory retention``: legal holds and the purge of expired records.

``hold C12 --reason ... --actor ...`` opens a legal hold on a customer (``E5`` an enterprise), ``release 3
--reason ... --actor ...`` releases hold 3, ``holds`` lists the open ones (each audited as
``retention.hold``/``retention.release``). ``purge [--as-of DAY] [--dry-run]`` removes the documents whose
retention ran out by that day and the stored files no record refers to, printing its progress page by page
(:mod:`core.retention.purge`; the same as the Celery beat task).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from core.customers.search import party_of_number
from core.retention.holds import open_holds, place_hold, release_hold
from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.database import db_session
from loanfactory.documents import document_store
from loanfactory.tasks.retention import PurgeTotals, purge_expired


@click.group()
def retention() -> None:
    """Retention (档案): legal holds and the purge of expired records."""


@retention.command("hold")
@click.argument("customer")
@click.option("--reason", required=True, help="Why the records must be kept (case number, authority).")
@click.option("--actor", required=True, help="Who places the hold (recorded in the audit log).")
@with_appcontext
def hold_command(customer: str, reason: str, actor: str) -> None:
    """Place a legal hold on CUSTOMER (C12 an individual, E5 an enterprise)."""
    session = db_session()
    hold = place_hold(session, party_of_number(customer), reason=reason, actor=actor, now=datetime.now(UTC))
    session.commit()
    click.echo(f"legal hold {hold.id} on {customer.upper()}")


@retention.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why the hold ends.")
@click.option("--actor", required=True, help="Who releases it (recorded in the audit log).")
@with_appcontext
def release_command(hold_id: int, reason: str, actor: str) -> None:
    """Release legal hold HOLD_ID."""
    session = db_session()
    release_hold(session, hold_id, reason=reason, actor=actor, now=datetime.now(UTC))
    session.commit()
    click.echo(f"legal hold {hold_id} released")


@retention.command("holds")
@json_option
@with_appcontext
def holds_command(as_json: bool) -> None:
    """List the open legal holds."""
    rows = [{"id": hold.id, "subject": str(hold.subject), "reason": hold.reason, "placed_by": hold.placed_by,
             "placed_at": hold.placed_at.isoformat()} for hold in open_holds(db_session())]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['subject']}\t{row['placed_at']}\t{row['placed_by']}\t{row['reason']}")
    if not rows:
        click.echo("no open legal holds")


@retention.command("purge")
@click.option("--as-of", "as_of", default=None, help="The day retention is judged on (YYYY-MM-DD); today by default.")
@click.option("--dry-run", is_flag=True, help="Report what would go; change nothing.")
@click.option("--page-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Documents per transaction.")
@json_option
@with_appcontext
def purge_command(as_of: str | None, dry_run: bool, page_size: int, as_json: bool) -> None:
    """Purge the records whose retention has run out, and orphan stored files."""
    day = parse_date(as_of, "--as-of") if as_of else clock.today()

    def progress(totals: PurgeTotals) -> None:
        if not as_json:
            click.echo(f"... {totals.examined} documents examined, {totals.purged} purged, {totals.held} held",
                       err=True)

    totals = purge_expired(db_session(), document_store(), day, actor="cli:retention", dry_run=dry_run,
                           page_size=page_size, progress=progress)
    summary = {"as_of": day.isoformat(), "dry_run": dry_run, **totals.as_dict()}
    if as_json:
        echo_json(summary)
        return
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} {totals.purged} documents on {day} ({totals.held} kept under legal hold), "
               f"{totals.files_deleted} files, {len(totals.orphans_deleted)} orphan files")
