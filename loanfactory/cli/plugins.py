"""``loanfactory plugins [--hook NAME] [--json]``: which plugins are installed, their versions and hooks."""

from __future__ import annotations

import click

from core.errors import InvalidArgumentError
from core.hookspecs import HOOK_FAMILIES
from loanfactory.app import create_app
from loanfactory.cli.common import echo_json, json_option
from loanfactory.plugins_host import get_plugins

ALL_HOOKS = sorted(hook for hooks in HOOK_FAMILIES.values() for hook in hooks)


@click.command()
@click.option("--hook", default=None, help="Only plugins implementing this hook.")
@json_option
def plugins(hook: str | None, as_json: bool) -> None:
    """List installed plugins: name, version, where they come from, and the hooks they implement."""
    if hook is not None and hook not in ALL_HOOKS:
        raise InvalidArgumentError(f"--hook: {hook!r} is not a hook; hooks: {', '.join(ALL_HOOKS)}",
                                   field="--hook", value=hook)
    manager = get_plugins(create_app())
    if as_json:
        echo_json(manager.as_json(hook)["plugins"])
        return
    for info in manager.listing(hook):
        state = "" if info.enabled else "  (disabled)"
        click.echo(f"{info.name} {info.version}  [{info.source}] {info.module}{state}")
        for name in info.hooks:
            click.echo(f"    {name}")
