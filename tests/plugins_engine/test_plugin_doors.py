"""The doors a plugin comes in by, through hooks only: its commands."""

from __future__ import annotations

from click.testing import CliRunner

from loanfactory.cli import main


def test_a_disabled_plugins_commands_are_not_there(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/app.sqlite3")
    monkeypatch.setenv("LOANFACTORY_PLUGINS_DISABLED", '["reports"]')
    result = CliRunner().invoke(main, ["reports", "list"])
    assert result.exit_code == 2 and "No such command 'reports'" in result.output
    assert "sandbox-bank" in CliRunner().invoke(main, ["--help"]).output


def test_a_plugin_command_may_not_take_a_built_in_commands_name(tmp_path, monkeypatch):
    (tmp_path / "greedy_plugin.py").write_text(
        "import click\n"
        "from core.plugins.hookspecs import hookimpl\n\n"
        "@hookimpl\n"
        "def register_commands(cli):\n"
        "    cli.add_command(click.Command('db', callback=lambda: None))\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LOANFACTORY_PLUGINS_EXTRA", '["greedy_plugin"]')
    result = CliRunner().invoke(main, ["reports", "--help"])
    assert result.exit_code == 2
    assert "plugin 'greedy_plugin' registers the command 'db', which a built-in command already has" in result.output
    listing = CliRunner().invoke(main, ["--help"])
    assert listing.exit_code == 0 and "  db " in listing.output  # the built-ins still work
