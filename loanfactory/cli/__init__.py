"""The ``loanfactory`` command.

Every sub-command turns its options into kernel calls; a :class:`~core.errors.LoanFactoryError` is
printed as one line naming the argument at fault and the command exits 2, without a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from admin.cli import users
from core.errors import LoanFactoryError
from loanfactory.cli.applications import applications
from loanfactory.cli.db import db
from loanfactory.cli.eod import eod
from loanfactory.cli.ledger import ledger
from loanfactory.cli.pii import pii
from loanfactory.cli.plugins import plugins
from loanfactory.cli.products import products
from loanfactory.cli.schedule import schedule
from loanfactory.cli.serve import api_keys, serve
from plugins.reports.cli import reports
from plugins.sandbox_bank.cli import sandbox_bank


class KernelErrors(click.Group):
    """A click group that reports kernel refusals as usage errors (exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoanFactoryError as error:
            option = OPTION_NAMES.get(error.field or "")
            prefix = f"{option} ({error.field}) - " if option else ""
            click.echo(f"Error: {prefix}{error}", err=True)
            ctx.exit(2)


#: kernel argument -> the command-line option a user typed for it
OPTION_NAMES = {"principal": "--amount", "annual_rate": "--annual-rate", "periods": "--term"}


@click.group(cls=KernelErrors)
@click.version_option(package_name="loanfactory")
def main() -> None:
    """Loan Product Factory: products as data, schedules, books and channels."""


main.add_command(schedule)
main.add_command(db)
main.add_command(serve)
main.add_command(api_keys)
main.add_command(plugins)
main.add_command(pii)
main.add_command(ledger)
main.add_command(products)
main.add_command(eod)
main.add_command(applications)
main.add_command(reports)
main.add_command(sandbox_bank)
main.add_command(users)
