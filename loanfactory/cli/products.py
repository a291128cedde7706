"""``loanfactory products``: validate product files, and manage product versions in the database.

``validate FILE...`` prints every problem of every file with its JSON pointer and exits 1 when there is
any (plugins are checked against the plugin manager's loaded plugins unless ``--no-plugin-check``).
``import`` saves files as new drafts (a published version is never touched: importing a file for a code
that is on sale makes the next version number, a draft); ``submit``, ``publish``, ``pause``, ``resume`` and
``retire`` move a version through its lifecycle, done by a back-office user who signs in with ``--user``
and a password (:mod:`loanfactory.cli.people`; maker-checker applies between two real users);
``export`` prints a version's document, ``diff`` the field-level differences of two versions, ``list``
every version with its worst-case APR and the live applications and loans booked on it. ``docs`` writes
the product definition reference generated from the schema.

The database is ``--database-url`` or ``DATABASE_URL`` (the embedded SQLite default otherwise); on SQLite
missing tables are created, as the app does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory
from core.finance.chart import shipped_chart
from core.finance.charts import chart_in_force
from core.products.changes import diff_versions, impact
from core.products.docs import DOCS_PATH, render_reference
from core.products.models import ProductVersion
from core.products.references import plugin_registry
from core.products.validate import InvalidProductError, check_product, read_document
from core.products.versions import (
    clone,
    create_draft,
    get_version,
    list_versions,
    pause,
    publish,
    resume,
    retire,
    submit,
)
from loanfactory.cli.common import echo_json, json_option
from loanfactory.cli.people import signed_in, user_options

database_option = click.option("--database-url", default=None, help="Database URL (default: DATABASE_URL).")


@contextmanager
def _session(database_url: str | None) -> Iterator[Session]:
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        Base.metadata.create_all(engine)
    session: Session = make_session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def _registry(check: bool) -> dict[str, frozenset[str]] | None:
    if not check:
        return None
    from core.plugins.manager import make_plugin_manager

    return plugin_registry(make_plugin_manager())


@click.group()
def products() -> None:
    """Product definitions: validate files; import, publish, export, diff and list versions."""


@products.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-plugin-check", is_flag=True, help="Do not check plugin names against the loaded plugins.")
@json_option
def validate_command(files: tuple[Path, ...], no_plugin_check: bool, as_json: bool) -> None:
    """Validate product FILES: every problem with its JSON pointer; exit 1 on any."""
    registry = _registry(not no_plugin_check)
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            report = check_product(read_document(path), plugins=registry, chart=shipped_chart())
            problems, proof = report.problems, report.proof
        except InvalidProductError as error:
            problems, proof = error.problems, None
        results.append({"file": str(path), "ok": not problems, "problems": [p.as_dict() for p in problems],
                        "proof": proof.as_dict() if proof else None})
    if as_json:
        echo_json(results)
    else:
        for result in results:
            _print_result(result)
    if any(not r["ok"] for r in results):
        sys.exit(1)


def _print_result(result: dict[str, Any]) -> None:
    if result["ok"]:
        worst = result["proof"]["worst"]
        click.echo(f"{result['file']}: ok; worst-case APR {worst['apr']} (cap {result['proof']['cap']}) at "
                   f"amount {worst['amount']}, term {worst['term']}, {worst['method']}, rate {worst['annual_rate']}"
                   + (f", prepaid at period {worst['prepaid_at_period']}" if worst["prepaid_at_period"] else ""))
        return
    for p in result["problems"]:
        click.echo(f"{result['file']}: {p['pointer'] or '/'}: [{p['code']}] {p['message_en']} / {p['message_zh']}")


@products.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_options
@click.option("--submit", "and_submit", is_flag=True, help="Also submit each draft for review.")
@click.option("--no-plugin-check", is_flag=True, help="Do not check plugin names when submitting.")
@database_option
def import_command(files: tuple[Path, ...], username: str, password: str, and_submit: bool, no_plugin_check: bool,
                   database_url: str | None) -> None:
    """Save product FILES as new draft versions (and submit them with --submit)."""
    actor = signed_in(database_url, username, password, "product.edit").username
    registry = _registry(not no_plugin_check) if and_submit else None
    with _session(database_url) as session:
        for path in files:
            version = create_draft(session, read_document(path), actor=actor, note=f"imported from {path.name}")
            if and_submit:
                submit(session, version, actor=actor, plugins=registry, chart=chart_in_force(session))
            click.echo(f"{path}: {version.label} {version.status}")


def _lifecycle(name: str, action: Callable[..., Any], help_text: str, permission: str,
               needs_reason: bool = False, validates: bool = False) -> None:
    @products.command(name, help=help_text)
    @click.argument("code")
    @click.argument("number", type=int)
    @user_options
    @click.option("--reason", default=None, required=needs_reason, help="Why (recorded with the transition).")
    @click.option("--no-plugin-check", is_flag=True, help="Do not check plugin names.")
    @database_option
    def command(code: str, number: int, username: str, password: str, reason: str | None, no_plugin_check: bool,
                database_url: str | None) -> None:
        actor = signed_in(database_url, username, password, permission).username
        with _session(database_url) as session:
            version = get_version(session, code, number)
            kwargs: dict[str, Any] = {"actor": actor}
            if needs_reason:
                kwargs["reason"] = reason
            if validates:
                kwargs["plugins"] = _registry(not no_plugin_check)
                kwargs["chart"] = chart_in_force(session)
            action(session, version, **kwargs)
            click.echo(f"{version.label} {version.status}")


_lifecycle("submit", submit, "Submit draft NUMBER of CODE for review (it must validate).", "product.edit",
           validates=True)
_lifecycle("publish", publish, "Approve and publish version NUMBER of CODE (not by its submitter).",
           "product.publish", validates=True)
_lifecycle("pause", pause, "Pause published version NUMBER of CODE.", "product.lifecycle", needs_reason=True)
_lifecycle("resume", resume, "Resume paused version NUMBER of CODE.", "product.lifecycle")
_lifecycle("retire", retire, "Retire version NUMBER of CODE.", "product.lifecycle", needs_reason=True)


@products.command("clone")
@click.argument("code")
@click.argument("number", type=int)
@user_options
@database_option
def clone_command(code: str, number: int, username: str, password: str, database_url: str | None) -> None:
    """Copy version NUMBER of CODE into a new draft: how a published product is edited."""
    actor = signed_in(database_url, username, password, "product.edit").username
    with _session(database_url) as session:
        draft = clone(session, get_version(session, code, number), actor=actor)
        click.echo(f"{draft.label} {draft.status}")


@products.command("export")
@click.argument("code")
@click.option("--version", "number", type=int, default=None, help="Version number (default: the latest).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to a file.")
@database_option
def export_command(code: str, number: int | None, output: Path | None, database_url: str | None) -> None:
    """Print (or write) the document of a version of CODE."""
    import json

    with _session(database_url) as session:
        document = get_version(session, code, number).document
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@products.command("diff")
@click.argument("code")
@click.argument("older", type=int)
@click.argument("newer", type=int)
@json_option
@database_option
def diff_command(code: str, older: int, newer: int, as_json: bool, database_url: str | None) -> None:
    """Field-level differences of CODE from version OLDER to NEWER."""
    import json

    with _session(database_url) as session:
        changes = diff_versions(get_version(session, code, older), get_version(session, code, newer))
    if as_json:
        echo_json([c.as_dict() for c in changes])
        return
    for change in changes:
        before = json.dumps(change.before, ensure_ascii=False) if change.kind != "added" else "-"
        after = json.dumps(change.after, ensure_ascii=False) if change.kind != "removed" else "-"
        click.echo(f"{change.pointer}  {change.kind}: {before} -> {after}")
    if not changes:
        click.echo("no differences")


@products.command("list")
@click.option("--code", default=None, help="Only this product code.")
@json_option
@database_option
def list_command(code: str | None, as_json: bool, database_url: str | None) -> None:
    """Every version with its status, people, worst-case APR and live business."""
    with _session(database_url) as session:
        rows = [_row(session, v) for v in list_versions(session, code)]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'code':<24} {'ver':>3} {'status':<10} {'maker':<12} {'checker':<12} {'worst APR':>9} "
               f"{'apps':>5} {'loans':>6}")
    for r in rows:
        click.echo(f"{r['code']:<24} {r['version']:>3} {r['status']:<10} {r['created_by']:<12} "
                   f"{r['approved_by'] or '-':<12} {r['worst_apr'] or '-':>9} {r['live_applications']:>5} "
                   f"{r['live_loans']:>6}")


def _row(session: Session, version: ProductVersion) -> dict[str, Any]:
    counts = impact(session, version)
    return {"code": version.code, "version": version.version, "status": version.status,
            "created_by": version.created_by, "submitted_by": version.submitted_by,
            "approved_by": version.approved_by,
            "worst_apr": version.proof["worst"]["apr"] if version.proof else None,
            "live_applications": counts.applications, "live_loans": counts.loans}


@products.command("docs")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=DOCS_PATH, show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the file is not up to date instead of writing it.")
def docs_command(output: Path, check: bool) -> None:
    """Write the product definition reference (docs/products.md) from the schema."""
    text = render_reference()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            click.echo(f"{output} is out of date: run `loanfactory products docs`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date")
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")
