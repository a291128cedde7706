"""Batches against a bank of its own (it commits on its side): a worker killed mid-batch, re-run, debits
nobody twice; duplicate and late answers change nothing; a silent instruction is asked after; partial
debits and empty cards behave as a bank's do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.db.base import make_session_factory
from core.debits.dispatch import claim_batch, send_batch
from core.loans.events import ServicingEvent
from debits.debit_helpers import (
    ACCOUNT,
    due_run,
    instructions,
    moment,
    seed_years,
    settle_and_call_back,
)
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.models import BankOrder
from plugins.sandbox_bank.reconcile import reconcile_with_ledger
from plugins.sandbox_bank.statement import read_statement
from tests.api.conftest import Channel, application_body, id_number, new_key, selling, to_disbursing

FIRST_DUE = date(2026, 4, 2)
SECOND_CARD = "6222020200998877665"


def _bank_config(tmp_path: Path, **shares: str) -> dict[str, str]:
    return {"database_url": f"sqlite:///{tmp_path}/bank.sqlite3", **shares}


def _app(db_url: str, bank: dict[str, str]) -> Iterator[Flask]:
    yield from selling(db_url, PLUGIN_CONFIG={"sandbox_bank": bank})


def _book_two(app: Flask, bank: dict[str, str]) -> list[int]:
    """Two loans paid out through the bank of its own; both cards bound for debits."""
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    channel = Channel(app.test_client(), new_key(app))
    second = application_body(id_no=id_number("19880202", 7),  # another 张三, another card
                              bank_account={"bank_code": "CCB", "account_number": SECOND_CARD, "holder_name": "张三"})
    urls = [to_disbursing(app, channel), to_disbursing(app, channel, second)]
    assert settle_and_call_back(app, date(2026, 3, 2), 10, config={k: v for k, v in bank.items()
                                                                   if k == "database_url"}) == [200, 200]
    with open_bank(bank, moment(date(2026, 3, 2), 11), None) as own:
        own.bind_card(ACCOUNT, "张三")
        own.bind_card(SECOND_CARD, "张三")
    return [channel.get(url).get_json()["loan_id"] for url in urls]


@pytest.fixture
def bank(tmp_path: Path) -> dict[str, str]:
    return _bank_config(tmp_path, duplicate_callback_share="1")


@pytest.fixture
def app(db_url: str, bank: dict[str, str]) -> Iterator[Flask]:
    yield from _app(db_url, bank)


def test_a_worker_killed_mid_batch_is_rerun_without_a_double_debit(app, bank):
    loan_ids = _book_two(app, bank)
    at = moment(FIRST_DUE, 9)
    app.config["API_BUSINESS_DATE"] = FIRST_DUE
    get_plugins(app).clock = lambda: at
    with app.app_context():
        from core.debits.planning import plan_instructions

        session = make_session_factory(get_db(app).engine)()
        assert plan_instructions(session, FIRST_DUE, 9, at).created == 2
        session.commit()
        (version,) = {r.product_version_id for r in instructions(app, loan_ids[0])}
        claimed = claim_batch(session, plugin="sandbox_bank", version_id=version, size=500, allow_partial=True,
                              now=at)
        session.commit()
        send_batch(session, get_plugins(app), claimed, today=FIRST_DUE, now=at)
        session.rollback()  # the worker dies here: the bank has the orders, we lost its answers
        session.close()
    assert [r.state for lid in loan_ids for r in instructions(app, lid)] == ["sending", "sending"]
    assert due_run(app, FIRST_DUE, 9).sent == 0  # within the lease nobody takes them
    rerun = due_run(app, FIRST_DUE, 10)  # an hour later the lease is over: sent again, same request ids
    assert (rerun.created, rerun.sent) == (0, 2)
    statuses = settle_and_call_back(app, FIRST_DUE, 10, config=bank)
    assert statuses == [200] * 4  # every callback arrives twice; the second changes nothing
    with open_bank(bank, moment(FIRST_DUE, 11), None) as own:
        orders = own.session.scalars(select(BankOrder).where(BankOrder.kind == "debit")).all()
        assert sorted(o.request_id for o in orders) == sorted(f"LF-DEBIT-{lid}-1-1" for lid in loan_ids)
        assert all(o.status == "succeeded" for o in orders)
        statement = own.statement(FIRST_DUE)
    with app.app_context():
        session = get_db(app).session()
        repayments = session.scalar(select(func.count()).select_from(ServicingEvent).where(
            ServicingEvent.kind == "repayment"))
        assert repayments == 2
        on, lines = read_statement(statement)
        assert reconcile_with_ledger(session, "sandbox_bank", on, lines).balanced
    for loan_id in loan_ids:
        (row,) = instructions(app, loan_id)
        assert (row.state, row.collected) == ("succeeded", row.amount)


@pytest.fixture
def silent_bank(tmp_path: Path) -> dict[str, str]:
    return _bank_config(tmp_path, lost_callback_share="1")


def test_a_silent_instruction_is_asked_after_and_a_late_callback_changes_nothing(db_url, silent_bank, tmp_path):
    app = next(_app(db_url, silent_bank))
    loan_ids = _book_two(app, silent_bank)
    assert due_run(app, FIRST_DUE, 9).sent == 2
    assert settle_and_call_back(app, FIRST_DUE, 9, config=silent_bank) == []  # the bank's callbacks are lost
    assert [r.state for lid in loan_ids for r in instructions(app, lid)] == ["sent", "sent"]
    assert due_run(app, FIRST_DUE, 9).queried == 0  # not yet: query_after_minutes is 30
    assert due_run(app, FIRST_DUE, 10).queried == 2
    rows = [r for lid in loan_ids for r in instructions(app, lid)]
    assert [r.state for r in rows] == ["succeeded", "succeeded"]
    late = app.test_client().post  # the bank's late callback, signed and fresh, arrives after the query
    with open_bank({**silent_bank, "lost_callback_share": "0"}, moment(FIRST_DUE, 10, 5), None) as own:
        order = own.order(rows[0].request_id)
        from plugins.sandbox_bank import callbacks

        headers, body = callbacks.sign(own.secret, callbacks.payload(
            order.request_id, order.kind, order.status, order.moved, order.bank_serial, order.failure_code,
            order.failure_message, False, own.result(order).settled_at), own.now.replace(tzinfo=UTC))
    get_plugins(app).clock = lambda: moment(FIRST_DUE, 10, 5)
    answer = late("/api/v1/callbacks/payments/sandbox_bank", data=body, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["changed"] is False
    with app.app_context():
        assert get_db(app).session().scalar(select(func.count()).select_from(ServicingEvent).where(
            ServicingEvent.kind == "repayment")) == 2
    get_db(app).engine.dispose()


@pytest.fixture
def short_bank(tmp_path: Path) -> dict[str, str]:
    return _bank_config(tmp_path, insufficient_funds_share="1", partial_share="1")


def test_a_short_card_is_debited_in_part_and_the_rest_asked_for_at_the_next_attempt(db_url, short_bank):
    app = next(_app(db_url, short_bank))
    loan_id = _book_two(app, short_bank)[0]
    due_run(app, FIRST_DUE, 9)
    settle_and_call_back(app, FIRST_DUE, 9, config=short_bank)
    first, = instructions(app, loan_id)
    assert first.state == "partial"
    assert first.amount * Decimal("0.2") <= first.collected <= first.amount * Decimal("0.8")
    due_run(app, FIRST_DUE, 15)  # the plan's second attempt asks for what is left
    second = instructions(app, loan_id)[1]
    assert second.amount == first.amount - first.collected
    settle_and_call_back(app, FIRST_DUE + timedelta(days=0), 15, config=short_bank)
    assert instructions(app, loan_id)[1].state == "partial"
    get_db(app).engine.dispose()
