"""``loanfactory ledger``: the trial balance (by kernel account, GL code or product), the chart of accounts,
and proving or rebuilding the loan balance projection.

Every command works on ``DATABASE_URL`` (or ``--database-url``; the embedded SQLite default otherwise).
``verify-projection`` changes nothing: it compares the projection with the journal range of loan ids by
range (each range in its own read-only transaction, with a progress bar on stderr), lists where they
differ and exits 1 when they do, so it can run from cron or CI; ``--loan-ids`` checks one part of the
book, so several machines can share a large one. ``rebuild-projection`` rewrites the projection (or the
rows of ``--loan-ids``) from the journal; ``rebuild-projection --check`` is ``verify-projection``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.db.base import database_url as resolve_database_url
from core.db.base import make_engine, make_session_factory
from core.errors import InvalidArgumentError
from core.finance.chart import InvalidChartError
from core.finance.charts import chart_in_force, load_chart
from core.finance.general_ledger import general_ledger
from core.ledger import (
    JournalEntry,
    LoanRange,
    ProjectionDifference,
    compare_projection,
    projection_ranges,
    rebuild_projection,
    trial_balance,
)
from core.ledger.projection import DEFAULT_RANGE_SIZE, WHOLE_BOOK
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
    """Two decimals, or as many as the amount has beyond them (interest accrues in fractions of a fen)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}"


@click.group()
def ledger() -> None:
    """The books: trial balance and the loan balance projection."""


database_option = click.option("--database-url", default=None, help="Database URL (default: DATABASE_URL).")


def _loan_range(_ctx: click.Context, _param: click.Parameter, value: str | None) -> LoanRange:
    if value is None:
        return WHOLE_BOOK
    try:
        return LoanRange.parse(value)
    except InvalidArgumentError as error:
        raise click.BadParameter(error.message) from None


loan_ids_option = click.option("--loan-ids", "loans", default=None, callback=_loan_range, metavar="FIRST-LAST",
                               help="Only the loans with ids FIRST to LAST (default: every loan).")


@ledger.command("trial-balance")
@database_option
@click.option("--by", "reading", type=click.Choice(["kernel", "gl", "product"]), default="kernel", show_default=True,
              help="Read by the kernel's accounts, by the lender's GL codes, or by product and GL code.")
@click.option("--through", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only entries with business dates up to this date (GL readings).")
@json_option
def trial_balance_command(database_url: str | None, reading: str, through: datetime | None, as_json: bool) -> None:
    """Print every account's debits, credits and balance, and whether the books balance."""
    with _session(database_url) as session:
        if reading == "kernel" and through is None:
            report = trial_balance(session)
            rows = [(r.account, r.name_zh, r.name_en, r.debit, r.credit, r.balance) for r in report.rows]
            total_debit, total_credit = report.total_debit, report.total_credit
        else:
            gl = general_ledger(session, through=through.date() if through else None)
            read = {"kernel": gl.by_kernel, "gl": gl.by_gl, "product": gl.by_product}[reading]()
            rows = [("/".join(part or "-" for part in r.key), r.name_zh, r.name_en, r.debit, r.credit, r.balance)
                    for r in read.rows]
            total_debit, total_credit = read.total_debit, read.total_credit
    difference = total_debit - total_credit
    if as_json:
        echo_json({
            "accounts": [{"account": key, "name_zh": zh, "name_en": en, "debit": str(debit), "credit": str(credit),
                          "balance": str(balance)} for key, zh, en, debit, credit, balance in rows],
            "total_debit": str(total_debit), "total_credit": str(total_credit),
            "difference": str(difference), "balanced": difference == 0,
        })
    else:
        click.echo(f"{'account':<28} {'name':<32} {'debit':>20} {'credit':>20} {'balance':>20}")
        for key, _zh, en, debit, credit, balance in rows:
            click.echo(f"{key:<28} {en[:32]:<32} {_money(debit):>20} {_money(credit):>20} {_money(balance):>20}")
        click.echo(f"{'total':<61} {_money(total_debit):>20} {_money(total_credit):>20}")
        click.echo("balanced" if difference == 0 else f"NOT BALANCED: debits - credits = {difference}")
    if difference:
        sys.exit(1)


@ledger.group("chart")
def chart() -> None:
    """The lender's chart of accounts: load a version, show the one in force."""


@chart.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True, help="Who loads it (recorded in the audit log).")
@database_option
def chart_load_command(path: Path, actor: str, database_url: str | None) -> None:
    """Validate the chart in PATH and store it as a new version; every problem is listed with its pointer."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise click.ClickException(f"{path}: not valid JSON: {error}") from None
    with _session(database_url) as session:
        try:
            stored = load_chart(session, document, actor=actor)
        except InvalidChartError as error:
            for problem in error.problems:
                click.echo(f"{path}: {problem}", err=True)
            sys.exit(1)
        session.commit()
        click.echo(f"chart version {stored.version} loaded, in force from {stored.effective_from}")


@chart.command("show")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The chart in force on this date.")
@database_option
@json_option
def chart_show_command(on: datetime | None, database_url: str | None, as_json: bool) -> None:
    """Print the chart in force (the shipped one until a version is loaded)."""
    with _session(database_url) as session:
        found = chart_in_force(session, on.date() if on else None)
    if as_json:
        echo_json(found.to_json())
        return
    click.echo(f"version {found.version}, in force from {found.effective_from} ({found.source})")
    for account in found.accounts.values():
        indent = "  " if account.parent else ""
        click.echo(f"{indent}{account.code:<14} {account.type:<10} {account.normal_side:<7} {account.name_zh} "
                   f"/ {account.name_en}")


def verify(session: Session, loans: LoanRange, size: int) -> tuple[list[ProjectionDifference], int]:
    """Compare the projection with the journal over ``loans``, ``size`` loan ids at a time, with a
    progress bar on stderr; the differences and the number of ranges compared."""
    ranges = projection_ranges(session, size, within=loans)
    session.rollback()
    differences: list[ProjectionDifference] = []
    with click.progressbar(ranges, label="comparing the projection with the journal", file=sys.stderr,
                           show_pos=True, item_show_func=lambda part: f"loan ids {part.name}" if part else None
                           ) as bar:
        for part in bar:
            differences += compare_projection(session, part)
            session.rollback()  # each range reads in its own transaction: no snapshot held across the book
    return differences, len(ranges)


def report(differences: list[ProjectionDifference], ranges: int, seconds: float, as_json: bool) -> None:
    """Print the differences (or JSON of them); exit 1 when there are any."""
    if as_json:
        echo_json({"differences": [{"loan_id": d.loan_id, "bucket": d.bucket, "journal": str(d.journal),
                                    "projection": str(d.projection)} for d in differences], "ranges": ranges})
    else:
        for d in differences:
            click.echo(f"loan {d.loan_id} {d.bucket}: journal {d.journal} projection {d.projection}")
        click.echo(f"{len(differences)} difference(s) between the projection and the journal "
                   f"({ranges} range(s) of loan ids, {seconds:.1f} s)")
    if differences:
        sys.exit(1)


size_option = click.option("--range-size", "size", default=DEFAULT_RANGE_SIZE, show_default=True,
                           type=click.IntRange(1), help="Loan ids compared per statement (and per transaction).")


@ledger.command("verify-projection")
@database_option
@loan_ids_option
@size_option
@json_option
def verify_projection_command(database_url: str | None, loans: LoanRange, size: int, as_json: bool) -> None:
    """Prove the loan balance projection against the journal; exit 1 where they differ."""
    began = time.perf_counter()
    with _session(database_url) as session:
        differences, ranges = verify(session, loans, size)
    report(differences, ranges, time.perf_counter() - began, as_json)


@ledger.command("rebuild-projection")
@database_option
@loan_ids_option
@click.option("--check", is_flag=True, help="Change nothing: the same as verify-projection.")
@size_option
@json_option
def rebuild_projection_command(database_url: str | None, loans: LoanRange, check: bool, size: int,
                               as_json: bool) -> None:
    """Rebuild the loan balance projection (or the rows of --loan-ids) from the journal."""
    began = time.perf_counter()
    with _session(database_url) as session:
        if check:
            differences, ranges = verify(session, loans, size)
        else:
            rows = rebuild_projection(session, loans)
            session.commit()
            if as_json:
                echo_json({"rebuilt_loans": rows})
            else:
                click.echo(f"rebuilt the projection of {rows} loans from the journal")
            return
    report(differences, ranges, time.perf_counter() - began, as_json)
