"""The ``loanfactory`` command.

Two kinds of sub-command, and the shell names no plugin. Its own commands are listed below by
``module:attribute`` and imported when run (or when ``--help`` lists them). The plugins' commands arrive
through the ``register_commands`` hook of a plugin manager built from the configuration alone
(:func:`loanfactory.plugins_host.configured_manager`), the first time an invocation needs them; a plugin
command may not take a name that a built-in command or another plugin has.

A command that needs the app decorates its callback with ``flask.cli.with_appcontext`` and reads
``flask.current_app``: the group puts a :class:`flask.cli.ScriptInfo` in the context whose app is
``create_app`` without the web faces (``FACES = ()``), built once per invocation and only when a command
asks for it. So no command imports the app factory, and a command runs without ``api/`` or ``admin/``.
(Flask's ``FlaskGroup`` does the same with ``ScriptInfo`` but adds ``--app``, ``--debug`` and
``--env-file`` and reads ``FLASK_*`` variables, which this command has no use for.)

Every sub-command turns its options into kernel calls; a :class:`~core.errors.LoanFactoryError` is
printed as one line naming the argument at fault and the command exits 2, without a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from core.errors import LoanFactoryError
from core.plugins.manager import PluginLoadError

#: the shell's own commands: name -> ``module:attribute``
COMMANDS: Mapping[str, str] = {
    "applications": "loanfactory.cli.applications:applications",
    "customers": "loanfactory.cli.customers:customers",
    "api-keys": "loanfactory.cli.serve:api_keys",
    "credit-lines": "loanfactory.cli.credit_lines:credit_lines",
    "db": "loanfactory.cli.db:db",
    "disbursements": "loanfactory.cli.disbursements:disbursements",
    "early-warning": "loanfactory.cli.early_warning:early_warning",
    "debits": "loanfactory.cli.debits:debits",
    "eod": "loanfactory.cli.eod:eod",
    "finance": "loanfactory.cli.finance:finance",
    "ledger": "loanfactory.cli.ledger:ledger",
    "pii": "loanfactory.cli.pii:pii",
    "plugins": "loanfactory.cli.plugins:plugins",
    "products": "loanfactory.cli.products:products",
    "retention": "loanfactory.cli.retention:retention",
    "schedule": "loanfactory.cli.schedule:schedule",
    "serve": "loanfactory.cli.serve:serve",
    "users": "admin.cli:users",
}
#: kernel argument -> the command-line option a user typed for it
OPTION_NAMES = {"principal": "--amount", "annual_rate": "--annual-rate", "periods": "--term"}
PLUGIN_COMMANDS = "loanfactory.plugin_commands"


def cli_app() -> Flask:
    """The app of a command-line invocation: the configured app without the web faces."""
    from loanfactory.app import create_app

    return create_app({"FACES": ()})


class LoanFactoryGroup(click.Group):
    """The root group: built-in commands by path, plugin commands by hook, an app context on demand, and
    kernel refusals reported as usage errors (exit 2)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        extra.setdefault("obj", ScriptInfo(create_app=cli_app, set_debug_flag=False, load_dotenv_defaults=False))
        return super().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            plugins = plugin_commands(ctx)
        except PluginLoadError as error:  # the built-in commands still work and are still listed
            click.secho(f"Error: {error}", err=True, fg="red")
            plugins = {}
        return sorted({*self.commands, *COMMANDS, *plugins})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoanFactoryError as error:
            option = OPTION_NAMES.get(error.field or "")
            prefix = f"{option} ({error.field}) - " if option else ""
            click.echo(f"Error: {prefix}{error}", err=True)
            ctx.exit(2)


def plugin_commands(ctx: click.Context) -> dict[str, click.Command]:
    """The plugins' commands, gathered once per invocation through ``register_commands``.

    Raises:
        PluginLoadError: a plugin cannot be loaded, its hook raised, or it gave a command a name that is
            taken (by a built-in command or by another plugin).
    """
    root = ctx.find_root()
    if PLUGIN_COMMANDS not in root.meta:
        from loanfactory.plugins_host import configured_manager

        manager = configured_manager()
        found: dict[str, click.Command] = {}
        owners: dict[str, str] = {}
        for plugin in manager.implementers("register_commands"):
            group = click.Group(plugin)
            manager.setup_call(plugin, "register_commands", cli=group)
            for name, command in group.commands.items():
                owner = "a built-in command" if name in COMMANDS else owners.get(name)
                if owner:
                    raise PluginLoadError(f"plugin {plugin!r} registers the command {name!r}, which {owner} "
                                          "already has", field=plugin, value=name)
                found[name], owners[name] = command, f"plugin {plugin!r}"
        root.meta[PLUGIN_COMMANDS] = found
    commands: dict[str, click.Command] = root.meta[PLUGIN_COMMANDS]
    return commands


@click.group(cls=LoanFactoryGroup)
@click.version_option(package_name="loanfactory")
def main() -> None:
    """Loan Product Factory: products as data, schedules, books and channels."""
