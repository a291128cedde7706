"""``loanfactory users``: the first administrator is created from a shell and can sign in."""

from click.testing import CliRunner
from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.backoffice.users import User, authenticate
from loanfactory.app import create_app
from loanfactory.cli import main
from loanfactory.database import db_session


def test_the_first_administrator_is_created_from_the_shell_and_audited(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    created = runner.invoke(main, ["users", "create", "--username", "root", "--role", "admin",
                                   "--password", "first admin pw"])
    assert created.exit_code == 0, created.output
    short = runner.invoke(main, ["users", "create", "--username", "x", "--role", "admin", "--password", "short"])
    assert short.exit_code == 2 and "password" in short.output
    listed = runner.invoke(main, ["users", "list"])
    assert "root\tadmin\tactive" in listed.output
    assert runner.invoke(main, ["users", "set-password", "--username", "root", "--password",
                                "second admin pw"]).exit_code == 0
    with create_app({"DATABASE_URL": url}).app_context():
        db = db_session()
        assert authenticate(db, "root", "second admin pw") is not None
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "cli")).all()
        assert db.scalar(select(User).where(User.username == "x")) is None
    assert actions == ["user.create", "user.set_password"]
