"""``loanfactory disbursements``: batch disbursement, one bank file for many signed loans, and its results.

``batch --application ID ... --channel CODE --out FILE --actor NAME`` writes the payout orders and the bank
file (mode 0600: it carries account numbers) and prints each application's line or refusal; ``results BATCH
FILE --actor NAME`` applies the bank's result file and prints each line's outcome (``--json`` for scripts).
The rules: :mod:`core.origination.batches`.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import click
from flask.cli import with_appcontext

from core.origination.batches import LineResult, apply_results, build_batch
from loanfactory.cli.common import echo_json, json_option
from loanfactory.clock import today
from loanfactory.database import db_session
from loanfactory.settings import callback_tolerance_days


@click.group()
def disbursements() -> None:
    """Batch disbursement (批量放款) through bank files."""


def _show(results: list[LineResult], as_json: bool) -> None:
    if as_json:
        echo_json([asdict(r) for r in results])
        return
    for r in results:
        click.echo(f"{r.line}: {r.outcome} application {r.application_id} {r.request_id or ''} "
                   f"{'loan ' + str(r.loan_id) if r.loan_id else ''} {r.detail}".rstrip())


@disbursements.command("batch")
@click.option("--application", "application_ids", type=int, multiple=True, required=True)
@click.option("--channel", required=True, help="The payment channel code whose bank takes the file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--actor", required=True, help="Who sends the batch (recorded on the orders' state changes).")
@json_option
@with_appcontext
def batch_command(application_ids: tuple[int, ...], channel: str, out: Path, actor: str, as_json: bool) -> None:
    """Write the payout orders and the bank file of the signed applications named."""
    session = db_session()
    built = build_batch(session, list(application_ids), channel=channel, actor=actor)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(built.content)
    session.commit()
    if not as_json:
        click.echo(f"batch {built.batch.id}: {built.batch.lines} line(s), {built.batch.total:.2f}, "
                   f"sha256 {built.batch.sha256}, written to {out}")
    _show(built.results, as_json)


@disbursements.command("results")
@click.argument("batch_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True)
@json_option
@with_appcontext
def results_command(batch_id: int, path: Path, actor: str, as_json: bool) -> None:
    """Apply the bank's result file of a batch, line by line."""
    session = db_session()
    results = apply_results(session, batch_id, path.read_bytes(), actor=actor, today=today(),
                            tolerance_days=callback_tolerance_days())
    session.commit()
    _show(results, as_json)
