"""The doors a plugin comes in by: its commands, its tables and its migrations, through hooks only.

The example package (tests/example_plugin, installed as a distribution with an entry point) uses all
three, and so do the built-ins. The commands run ``loanfactory`` in a fresh interpreter, as a user does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import inspect, text

from core.db.base import make_engine
from loanfactory.cli import main

LOANFACTORY = Path(sys.executable).with_name("loanfactory")


def loanfactory(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LOANFACTORY), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url, "LOANFACTORY_AUTO_CREATE_TABLES": "false"})


def test_db_upgrade_makes_the_example_plugins_table_and_its_command_lists_the_rows(db_url):
    upgraded = loanfactory(db_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(db_url)
    with engine.begin() as conn:
        assert "example_rules_webhooks" in inspect(conn).get_table_names()
        heads = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        conn.execute(text("INSERT INTO example_rules_webhooks (entity, entity_id, to_state, body, signature, "
                          "signed_at) VALUES ('loan', 7, 'settled', '{}', :signature, :at)"),
                     {"signature": "ab" * 32, "at": datetime.fromisoformat("2026-03-31T18:00:00+08:00")})
    engine.dispose()
    assert "example_rules_0001" in heads and any(head.startswith("sandbox_bank_") for head in heads)
    listed = loanfactory(db_url, "example-rules", "webhooks")
    assert listed.returncode == 0, listed.stderr
    assert "loan:7 -> settled  abababababababab" in listed.stdout and "1 webhook(s)" in listed.stdout


def test_a_plugin_command_runs_in_an_app_without_the_channel_api_or_the_admin(tmp_path):
    script = ("import sys\n"
              "from loanfactory.cli import main\n"
              "main(['example-rules', 'webhooks'], standalone_mode=False)\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('api', 'admin')))\n")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3"})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-2:] == ["0 webhook(s)", "[]"]


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
