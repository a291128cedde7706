"""``loanfactory plugins``: which plugins are installed (name, version, source, hooks), and how their calls went.

``--hook NAME`` keeps the plugins implementing one hook; ``--calls`` prints the recorded calls per plugin and
hook instead (count, outcomes, mean and longest duration), ``--since DATE`` limiting them; ``--json`` for
machines.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.errors import InvalidArgumentError
from core.plugins.hookspecs import HOOK_FAMILIES
from core.plugins.manager import OUTCOMES, PluginManager, call_summary
from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins

ALL_HOOKS = sorted(hook for hooks in HOOK_FAMILIES.values() for hook in hooks)


@click.command()
@click.option("--hook", default=None, help="Only plugins implementing this hook.")
@click.option("--calls", is_flag=True, help="Show the recorded calls per plugin and hook instead.")
@click.option("--since", default=None, help="With --calls: only calls from this date on (YYYY-MM-DD).")
@json_option
@with_appcontext
def plugins(hook: str | None, calls: bool, since: str | None, as_json: bool) -> None:
    """List installed plugins: name, version, where they come from, and the hooks they implement."""
    if hook is not None and hook not in ALL_HOOKS:
        raise InvalidArgumentError(f"--hook: {hook!r} is not a hook; hooks: {', '.join(ALL_HOOKS)}",
                                   field="--hook", value=hook)
    start = clock.clock_of().start_of(parse_date(since, "--since")) if since else None
    if calls:
        with get_db().session() as session:
            summary = [row for row in call_summary(session, start) if hook is None or row["hook"] == hook]
        _print_calls(summary, as_json)
        return
    _print_plugins(get_plugins(), hook, as_json)


def _print_plugins(manager: PluginManager, hook: str | None, as_json: bool) -> None:
    if as_json:
        echo_json(manager.as_json(hook)["plugins"])
        return
    for info in manager.listing(hook):
        state = "" if info.enabled else "  (disabled)"
        click.echo(f"{info.name} {info.version}  [{info.source}] {info.module}{state}")
        for name in info.hooks:
            click.echo(f"    {name}")


def _print_calls(summary: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        echo_json(summary)
        return
    header = ["plugin", "hook", "calls", *OUTCOMES, "mean_ms", "max_ms"]
    rows = [[str(row[column]) for column in header] for row in summary]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    for line in (header, *rows):
        click.echo("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                             for i, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip())
