"""``loanfactory sandbox-bank``: the sandbox bank's control panel, and the daily reconciliation.

* ``settle``: settle every order whose time has come and deliver the signed callbacks to the payment
  callback endpoint: in process through the app (the default, ``/api/v1/callbacks/payments/sandbox_bank``)
  or by HTTP POST when ``PLUGIN_CONFIG["sandbox_bank"]["callback_url"]`` is an ``http(s)://`` URL. A
  callback the endpoint does not accept (non-2xx) stays in the outbox for the next run.
* ``bind-card --number N --holder NAME [--balance AMOUNT]``: bind a card for debits (协议支付).
* ``statement --date D``: the bank's reconciliation file (对账文件) for day ``D``.
* ``reconcile FILE``: read a reconciliation file and compare it with the journal's cash clearing account
  of the channel for the file's day; prints every difference, writes them as CSV with ``--out``, and
  exits 1 when there are any.

The plugin adds the group to ``loanfactory`` through ``register_commands``; the commands run in the command
line's app context (``with_appcontext``) for its configuration and database, and ``settle`` attaches the
channel API to that app (:func:`loanfactory.faces.with_channel_api`) only to deliver in process.
"""

from __future__ import annotations

import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.db.base import make_session_factory
from core.errors import InvalidArgumentError
from core.ledger.accounts import cash_clearing
from core.money import parse_money
from loanfactory.database import get_db
from loanfactory.faces import with_channel_api
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.reconcile import reconcile_with_ledger
from plugins.sandbox_bank.statement import read_statement

DEFAULT_CALLBACK_PATH = "/api/v1/callbacks/payments/sandbox_bank"


def _sessions_and_config() -> tuple[Any, dict[str, Any]]:
    """Sessions of their own on the app's database (the bank commits as an outside party would), and the
    plugin's settings."""
    config = dict((current_app.config.get("PLUGIN_CONFIG") or {}).get("sandbox_bank", {}))
    return make_session_factory(get_db().engine), config


def _post(app: Flask, url: str, headers: dict[str, str], body: bytes) -> int:
    if url.startswith(("http://", "https://")):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
    return int(with_channel_api(app).test_client().post(url, headers=headers, data=body).status_code)


@click.group("sandbox-bank")
def sandbox_bank() -> None:
    """The sandbox bank: settlement, callbacks, the daily reconciliation file."""


@sandbox_bank.command()
@with_appcontext
def settle() -> None:
    """Settle the orders that are due and deliver their signed callbacks."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sessions, config = _sessions_and_config()
    url = str(config.get("callback_url") or DEFAULT_CALLBACK_PATH)
    with sessions() as session:
        with open_bank(config, get_plugins().clock(), session) as bank:
            settled = bank.settle_due()
            outbox = [(c.id, dict(c.headers), c.body.encode("utf-8")) for c in bank.undelivered_callbacks()]
        session.commit()
        click.echo(f"settled {len(settled)} order(s); {len(outbox)} callback(s) to deliver to {url}")
        for callback_id, headers, body in outbox:
            status = _post(app, url, headers, body)
            click.echo(f"  callback {callback_id}: HTTP {status}")
            if 200 <= status < 300:
                with open_bank(config, get_plugins().clock(), session) as bank:
                    bank.mark_delivered(callback_id)
                session.commit()


@sandbox_bank.command("bind-card")
@click.option("--number", required=True, help="The card number the borrower authorised for debits.")
@click.option("--holder", required=True, help="The holder's name.")
@click.option("--balance", default=None, help="What the card holds (default: never runs dry).")
@with_appcontext
def bind_card(number: str, holder: str, balance: str | None) -> None:
    """Bind a card at the bank for debits (协议支付), as the borrower's bank signing does."""
    sessions, config = _sessions_and_config()
    amount = parse_money(balance, "--balance") if balance is not None else None
    with sessions() as session:
        with open_bank(config, get_plugins().clock(), session) as bank:
            bank.bind_card(number, holder, amount)
        session.commit()
    click.echo(f"card ****{number[-4:]} bound")


@sandbox_bank.command()
@click.option("--date", "day", required=True, help="The settlement day, YYYY-MM-DD (Asia/Shanghai).")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="File (default: print).")
@with_appcontext
def statement(day: str, out: str | None) -> None:
    """Write the bank's reconciliation file for a day."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise InvalidArgumentError(f"--date: {day!r} is not a date (YYYY-MM-DD)", field="--date") from None
    sessions, config = _sessions_and_config()
    with sessions() as session, open_bank(config, get_plugins().clock(), session) as bank:
        content = bank.statement(when)
    if out:
        Path(out).write_bytes(content)
        click.echo(out)
    else:
        click.echo(content.decode("utf-8"), nl=False)


@sandbox_bank.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--channel", default="sandbox_bank", show_default=True, help="The channel whose ledger to compare.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write the differences as CSV.")
@with_appcontext
def reconcile(file: str, channel: str, out: str | None) -> None:
    """Reconcile a reconciliation file against the journal; exit 1 if anything differs."""
    cash_clearing(channel)
    day, lines = read_statement(Path(file).read_bytes())
    sessions, _config = _sessions_and_config()
    with sessions() as session:
        result = reconcile_with_ledger(session, channel, day, lines)
    click.echo(f"{channel} {day}: {result.matched} matched, {len(result.differences)} difference(s)")
    for d in result.differences:
        click.echo(f"  {d.kind:<18} {d.reference:<24} bank {d.bank_amount} ledger {d.ledger_amount}")
    for late in result.late:
        click.echo(f"  {'booked_late':<18} {late.request_id:<24} value date {late.value_date} "
                   f"booked on {late.booked_on}")
    if out:
        Path(out).write_bytes(result.to_csv())
    if not result.balanced:
        raise SystemExit(1)
