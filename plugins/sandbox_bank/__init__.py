"""``sandbox_bank``: a payment channel whose bank is a sandbox standing where the outside bank would be.

The payment family of hooks (:mod:`core.plugins.hookspecs`): payouts (``payment_disburse``), debits of a bound
card (``payment_debit``, and in batches ``payment_debit_batch``), ``payment_query``, ``payment_refund`` and
``payment_verify_callback``. Every order is accepted ``pending`` and settles asynchronously; its outcome
arrives as an HMAC-SHA256-signed callback (:mod:`.callbacks`) or by query. The bank itself is :mod:`.bank`;
its daily reconciliation file is :mod:`.statement`, reconciled against our journal by :mod:`.reconcile`.

Configuration (``PLUGIN_CONFIG["sandbox_bank"]``):

* ``callback_secret``: the HMAC secret shared with the bank, at least 32 characters. Unset, a labelled
  development secret is used, which only the demo and the tests accept: elsewhere the app does not start.
* ``database_url``: the bank's own database. Unset, the bank lives in the caller's database and
  transaction (the embedded default); set, it commits on its own, as a real bank does, so a lost
  answer (a ``timeout`` fault) leaves the order at the bank for the retry to find.
* ``settle_delay_seconds``: how long after acceptance an order settles (default 0: at the next
  settlement run or query).
* ``insufficient_funds_share``, ``partial_share``, ``lost_callback_share``, ``duplicate_callback_share``:
  fractions (default 0) of debits that meet an empty card, are collected in part, or whose callback is lost
  or sent twice (:mod:`.behaviour`).

See docs/reports.md for the reconciliation report and docs/plugins.md for the hooks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import click

from core.plugins.hookspecs import hookimpl
from core.plugins.types import (
    DebitBatch,
    PaymentRequest,
    PaymentResult,
    PluginContext,
    PluginSchema,
    RefundRequest,
)
from plugins.sandbox_bank import callbacks
from plugins.sandbox_bank.bank import Account, SandboxBank, open_bank

__version__ = "1.0.0"


@contextmanager
def visit(context: PluginContext) -> Iterator[SandboxBank]:
    """The bank for this call: in its own database if configured, else in the caller's session."""
    if context.config.get("database_url"):
        with open_bank(context.config, context.now, None) as bank:
            yield bank
        return
    with context.db() as session, open_bank(context.config, context.now, session) as bank:
        yield bank


def _submit(context: PluginContext, kind: str, request: PaymentRequest) -> PaymentResult:
    account = Account(request.account.bank_code, request.account.account_number, request.account.holder_name)
    with visit(context) as bank:
        order = bank.submit(kind, request.request_id, request.amount, account, request.currency)
        result, late = bank.result(order), bank.late_answer
    if late:
        time.sleep(late)  # the bank has the order; its answer is lost on the way back
    return result


@hookimpl(trylast=True)
def payment_disburse(context: PluginContext, request: PaymentRequest) -> PaymentResult:
    """Send a payout order; ``pending`` until it settles."""
    return _submit(context, "payout", request)


@hookimpl(trylast=True)
def payment_debit(context: PluginContext, request: PaymentRequest) -> PaymentResult:
    """Debit the bound card; an unbound card fails at once with ``CARD_NOT_BOUND``."""
    return _submit(context, "debit", request)


@hookimpl(trylast=True)
def payment_debit_batch(context: PluginContext, batch: DebitBatch) -> list[PaymentResult]:
    """Accept a batch of debits (批量代扣) in one visit; each order is its own, idempotent by request id."""
    results = []
    with visit(context) as bank:
        for request in batch.requests:
            account = Account(request.account.bank_code, request.account.account_number,
                              request.account.holder_name)
            order = bank.submit("debit", request.request_id, request.amount, account, request.currency,
                                allow_partial=batch.allow_partial, batch_id=batch.batch_id)
            results.append(bank.result(order))
        late = bank.late_answer
    if late:
        time.sleep(late)
    return results


@hookimpl(trylast=True)
def payment_query(context: PluginContext, request_id: str) -> PaymentResult:
    """Where the order stands (it settles first if its time has come)."""
    with visit(context) as bank:
        return bank.result(bank.order(request_id))


@hookimpl(trylast=True)
def payment_refund(context: PluginContext, request: RefundRequest) -> PaymentResult:
    """Refund (part of) a successful debit to the same card."""
    with visit(context) as bank:
        original = bank.order(request.original_request_id)
        account = Account(original.bank_code, original.account_number, original.holder_name)
        order = bank.submit("refund", request.request_id, request.amount, account, original.currency,
                            original_request_id=original.request_id)
        return bank.result(order)


@hookimpl(trylast=True)
def payment_verify_callback(context: PluginContext, headers: Mapping[str, str], body: bytes) -> PaymentResult:
    """Check the callback's HMAC signature and freshness, then read the result it announces."""
    return callbacks.verify(callbacks.secret_of(context.config), headers, body, context.now)


@hookimpl(trylast=True)
def config_problems(context: PluginContext) -> list[str]:
    """The callback secret must be set, long, and not the development one."""
    return callbacks.secret_problems(context.config)


@hookimpl(trylast=True)
def plugin_schema() -> PluginSchema:
    """The orders, cards, faults and callbacks (``models``), and the revisions that make them (``migrations/``)."""
    return PluginSchema.of_package(__name__)


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    """``loanfactory sandbox-bank``."""
    from plugins.sandbox_bank.cli import sandbox_bank

    cli.add_command(sandbox_bank)
