"""``loanfactory customers retag``: run the tag rules over every customer's profile.

The rules in force on ``--as-of`` (default today) replace each customer's rule tags
(:func:`core.portfolio.customer_tags.apply_tag_rules`); staff tags stay. One transaction per page of
customers, so a long run keeps what it finished; safe to run again (it recomputes). Schedule it after the
end-of-day close.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date
from loanfactory.database import db_session
from loanfactory.tasks.customers import retag_customers


@click.group()
def customers() -> None:
    """Customers: the tag rules over the book."""


@customers.command("retag")
@click.option("--as-of", "as_of", default=None, help="The profiles' day (YYYY-MM-DD); today by default.")
@json_option
@with_appcontext
def retag_command(as_of: str | None, as_json: bool) -> None:
    """Apply the tag rules in force to every customer and enterprise."""
    day = parse_date(as_of, "--as-of") if as_of else clock.today()
    done, counts = retag_customers(db_session(), day)
    if as_json:
        echo_json({"as_of": day.isoformat(), "customers": done, "tags": dict(sorted(counts.items()))})
        return
    click.echo(f"{done} customers on {day}: " + (", ".join(f"{tag} {n}" for tag, n in sorted(counts.items()))
                                                 or "no tags"))
