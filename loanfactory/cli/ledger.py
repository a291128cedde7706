"""``loanfactory ledger``: the trial balance, and rebuilding or checking the loan balance projection.

Both commands work on ``DATABASE_URL`` (or ``--database-url``; the embedded SQLite default otherwise).
``rebuild-projection --check`` changes nothing: it lists where the projection differs from the journal
and exits 1 when it does, so it can run from cron or CI.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import click
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.db.base import database_url as resolve_database_url
from core.db.base import make_engine, make_session_factory
from core.ledger import JournalEntry, compare_projection, rebuild_projection, trial_balance
from loanfactory.cli.common import echo_json, json_option


def _session(url: str | None) -> Session:
    """A session on the database, refusing (exit 1) one without the ledger tables."""
    engine = make_engine(url)
    if not inspect(engine).has_table(JournalEntry.__tablename__):
        engine.dispose()
        raise click.ClickException(f"{resolve_database_url(url)} has no ledger tables: start the app once "
                                   "(it creates them) or run the migrations")
    session: Session = make_session_factory(engine)()
    return session


def _money(value: Decimal) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.2f}"


@click.group()
def ledger() -> None:
    """The books: trial balance and the loan balance projection."""


database_option = click.option("--database-url", default=None, help="Database URL (default: DATABASE_URL).")


@ledger.command("trial-balance")
@database_option
@json_option
def trial_balance_command(database_url: str | None, as_json: bool) -> None:
    """Print every account's debits, credits and balance, and whether the books balance."""
    with _session(database_url) as session:
        report = trial_balance(session)
    if as_json:
        echo_json({
            "accounts": [{"account": r.account, "name_zh": r.name_zh, "name_en": r.name_en, "debit": str(r.debit),
                          "credit": str(r.credit), "balance": str(r.balance)} for r in report.rows],
            "total_debit": str(report.total_debit), "total_credit": str(report.total_credit),
            "difference": str(report.difference), "balanced": report.balanced,
        })
        return
    click.echo(f"{'account':<20} {'name':<24} {'debit':>20} {'credit':>20} {'balance':>20}")
    for r in report.rows:
        click.echo(f"{r.account:<20} {r.name_en:<24} {_money(r.debit):>20} {_money(r.credit):>20} "
                   f"{_money(r.balance):>20}")
    click.echo(f"{'total':<45} {_money(report.total_debit):>20} {_money(report.total_credit):>20}")
    click.echo("balanced" if report.balanced else f"NOT BALANCED: debits - credits = {report.difference}")
    if not report.balanced:
        sys.exit(1)


@ledger.command("rebuild-projection")
@database_option
@click.option("--check", is_flag=True, help="Only compare the projection with the journal; change nothing.")
@json_option
def rebuild_projection_command(database_url: str | None, check: bool, as_json: bool) -> None:
    """Rebuild the loan balance projection from the journal (or, with --check, compare them)."""
    with _session(database_url) as session:
        if not check:
            rows = rebuild_projection(session)
            session.commit()
            if as_json:
                echo_json({"rebuilt_loans": rows})
            else:
                click.echo(f"rebuilt the projection of {rows} loans from the journal")
            return
        differences = compare_projection(session)
    if as_json:
        echo_json({"differences": [{"loan_id": d.loan_id, "bucket": d.bucket, "journal": str(d.journal),
                                    "projection": str(d.projection)} for d in differences]})
    else:
        for d in differences:
            click.echo(f"loan {d.loan_id} {d.bucket}: journal {d.journal} projection {d.projection}")
        click.echo(f"{len(differences)} difference(s) between the projection and the journal")
    if differences:
        sys.exit(1)
