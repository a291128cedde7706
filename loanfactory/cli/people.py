"""Who acts on the command line: a real back-office user, signed in like on the admin's page.

A command that changes what maker-checker guards (a product's lifecycle) takes ``--user NAME`` and the
user's password (``LOANFACTORY_PASSWORD``, or asked for without echo), checks it through the same sign-in
as the admin (:func:`core.backoffice.signin.sign_in`: failures counted and audited, the account locked
after too many, address ``cli``) and the permission the action needs; the user's name is what the
version's history and the four-eyes rule record, so the maker and the checker are two real people.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from core.backoffice.signin import SignInPolicy, sign_in
from core.backoffice.users import User, require
from core.db.base import make_engine, make_session_factory
from core.errors import InvalidArgumentError

ADDRESS = "cli"
PASSWORD_ENV = "LOANFACTORY_PASSWORD"


def user_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--user`` and ``--password`` (``LOANFACTORY_PASSWORD``, else prompted without echo)."""
    func = click.option("--password", envvar=PASSWORD_ENV, prompt=True, hide_input=True,
                        help=f"The user's password ({PASSWORD_ENV}; asked for when not given).")(func)
    return click.option("--user", "username", required=True, help="Your back-office user name.")(func)


def signed_in(database_url: str | None, username: str, password: str, permission: str) -> User:
    """The user ``username`` once ``password`` is right and the user holds ``permission``; the sign-in is
    recorded (and a failure counted) in a transaction of its own.

    Raises:
        InvalidArgumentError: wrong name or password, or the account is locked (field ``--user``).
        PermissionDeniedError: the user lacks ``permission``.
    """
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            result = sign_in(session, username, password, address=ADDRESS, policy=SignInPolicy())
            session.commit()
            if result.user is None:
                locked = f"; locked until {result.locked_until:%Y-%m-%d %H:%M} UTC" if result.locked_until else ""
                raise InvalidArgumentError(f"--user: wrong user name or password{locked}", field="--user",
                                           value=username)
            require(result.user, permission)
            session.expunge(result.user)
            return result.user
    finally:
        engine.dispose()
