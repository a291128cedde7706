"""``loanfactory users``: create the first administrator, list users, reset a password, from a shell.

Needed on a fresh installation, where nobody can yet sign in to the admin to create users. Every change
is written to the audit log as done by ``cli``.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.backoffice import audit
from core.backoffice.users import Role, User, create_user, set_password
from loanfactory.database import db_session

ACTOR = "cli"


@click.group()
def users() -> None:
    """Back-office users of the admin."""


@users.command("create")
@click.option("--username", required=True, help="Sign-in name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]),
              help="A role (repeat for several).")
@click.option("--display-name", default="", help="Name shown in the admin (default: the username).")
@click.password_option("--password", envvar="LOANFACTORY_NEW_PASSWORD",
                       help="At least 10 characters; prompted for when not given (or LOANFACTORY_NEW_PASSWORD).")
@with_appcontext
def create(username: str, roles: tuple[str, ...], display_name: str, password: str) -> None:
    """Create a user with ROLES."""
    db = db_session()
    user = create_user(db, username=username, password=password, roles=roles, display_name=display_name)
    audit.record(db, actor=ACTOR, action="user.create", entity_type="user", entity_id=user.id,
                 after=user.snapshot())
    db.commit()
    click.echo(f"created {user.username} ({user.role_names})")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """Every user with roles and whether it may sign in."""
    for user in db_session().scalars(select(User).order_by(User.username)):
        click.echo(f"{user.username}\t{user.role_names}\t{'active' if user.is_active else 'inactive'}")


@users.command("set-password")
@click.option("--username", required=True)
@click.password_option("--password", envvar="LOANFACTORY_NEW_PASSWORD")
@with_appcontext
def reset_password(username: str, password: str) -> None:
    """Give USERNAME a new password (and reactivate it)."""
    db = db_session()
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="--username")
    before = user.snapshot()
    set_password(user, password)
    user.active = True
    audit.record(db, actor=ACTOR, action="user.set_password", entity_type="user", entity_id=user.id,
                 before=before, after={**user.snapshot(), "password_changed": True})
    db.commit()
    click.echo(f"password of {username} changed")
