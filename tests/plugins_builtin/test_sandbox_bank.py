"""The sandbox bank as a payment channel: settlement by signed callback, faults and retries, idempotency,
refunds, and the daily reconciliation file against our ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.plugins.manager import PluginCall
from core.plugins.types import BankAccount, CallbackSignatureError, PaymentRequest, PluginFailure, RefundRequest
from plugins.sandbox_bank import callbacks
from plugins.sandbox_bank.bank import RefundRefusedError, RequestIdConflictError, UnknownRequestError, open_bank
from plugins.sandbox_bank.models import BankCard, BankOrder
from tests.plugins_builtin.conftest import SIGNING_TIME, make_manager

NOW = SIGNING_TIME
BORROWER_CARD = BankAccount(bank_code="ICBC", account_number="6222020200000000001", holder_name="张三丰")


def payout(request_id: str, amount: str = "12000.00") -> PaymentRequest:
    return PaymentRequest(request_id=request_id, amount=Decimal(amount), account=BORROWER_CARD, loan_id=1)


def call(manager, session, hook, **kwargs):
    return manager.call("sandbox_bank", hook, session=session, **kwargs)


def settle(session, config=None, at=NOW):
    """Run the bank's settlement and hand back the callbacks it sends, as (headers, body) pairs."""
    with open_bank(config or {}, at, session) as bank:
        bank.settle_due()
        sent = [(dict(c.headers), c.body.encode("utf-8")) for c in bank.undelivered_callbacks()]
        for c in bank.undelivered_callbacks():
            bank.mark_delivered(c.id)
    return sent


def bind(session, balance=None, config=None):
    with open_bank(config or {}, NOW, session) as bank:
        bank.bind_card(BORROWER_CARD.account_number, BORROWER_CARD.holder_name, balance)


def test_payout_is_pending_until_settled_then_a_signed_callback_says_succeeded(manager, db_session):
    first = call(manager, db_session, "payment_disburse", request=payout("D-1"))
    assert (first.status, first.amount, first.settled_at) == ("pending", Decimal("12000.00"), None)
    [(headers, body)] = settle(db_session)
    result = call(manager, db_session, "payment_verify_callback", headers=headers, body=body)
    assert (result.request_id, result.status, result.amount) == ("D-1", "succeeded", Decimal("12000.00"))
    assert result.channel_reference == first.channel_reference
    assert call(manager, db_session, "payment_query", request_id="D-1").status == "succeeded"


def test_a_rejected_payout_is_retryable_and_succeeds_on_retry(manager, db_session):
    with open_bank({}, NOW, db_session) as bank:
        bank.plan_fault("reject", operation="payout", code="BANK_BUSY")
    failed = call(manager, db_session, "payment_disburse", request=payout("D-1"))
    assert (failed.status, failed.failure_code, failed.retryable) == ("failed", "BANK_BUSY", True)
    retry = call(manager, db_session, "payment_disburse", request=payout("D-1-retry"))
    assert retry.status == "pending"
    settle(db_session)
    assert call(manager, db_session, "payment_query", request_id="D-1-retry").status == "succeeded"
    assert call(manager, db_session, "payment_query", request_id="D-1").status == "failed"


def test_a_debit_that_fails_at_settlement_for_insufficient_funds_succeeds_after_a_top_up(manager, db_session):
    bind(db_session, balance=Decimal("100.00"))
    call(manager, db_session, "payment_debit", request=payout("C-1", "1100.16"))
    [(headers, body)] = settle(db_session)
    result = call(manager, db_session, "payment_verify_callback", headers=headers, body=body)
    assert (result.status, result.failure_code, result.retryable) == ("failed", "INSUFFICIENT_FUNDS", True)
    bind(db_session, balance=Decimal("2000.00"))
    call(manager, db_session, "payment_debit", request=payout("C-1-retry", "1100.16"))
    settle(db_session)
    assert call(manager, db_session, "payment_query", request_id="C-1-retry").status == "succeeded"
    assert db_session.get(BankCard, BORROWER_CARD.account_number).balance == Decimal("899.84")  # 2000 - 1100.16


def test_an_unbound_card_cannot_be_debited(manager, db_session):
    result = call(manager, db_session, "payment_debit", request=payout("C-1", "50.00"))
    assert (result.status, result.failure_code, result.retryable) == ("failed", "CARD_NOT_BOUND", False)


def test_the_same_request_id_never_moves_money_twice(manager, db_session):
    first = call(manager, db_session, "payment_disburse", request=payout("D-1"))
    again = call(manager, db_session, "payment_disburse", request=payout("D-1"))
    assert again == first
    with pytest.raises(PluginFailure) as other_amount:
        call(manager, db_session, "payment_disburse", request=payout("D-1", "13000.00"))
    assert other_amount.value.outcome == "refused"
    assert isinstance(other_amount.value.cause, RequestIdConflictError)
    settle(db_session)
    assert call(manager, db_session, "payment_disburse", request=payout("D-1")).status == "succeeded"
    assert db_session.scalar(select(func.count()).select_from(BankOrder)) == 1
    with open_bank({}, NOW, db_session) as bank:
        assert bank.statement(NOW.date()).decode().count("D-1") == 1


def test_a_lost_answer_times_out_and_the_retry_with_the_same_request_id_finds_the_order(db_session, tmp_path):
    """The bank (its own database) commits the order, then answers too late; we give up at 0.3 s. Our side
    keeps nothing half-written, only the record of the failed call; the retry finds the bank's order."""
    config = {"database_url": f"sqlite:///{tmp_path}/bank.sqlite3"}
    manager = make_manager({"sandbox_bank": config})
    manager.settings.timeouts["sandbox_bank"] = 0.3  # type: ignore[index]
    with open_bank(config, NOW, None) as bank:
        bank.plan_fault("timeout", operation="payout", delay_seconds=5)
    with pytest.raises(PluginFailure) as timeout:
        call(manager, db_session, "payment_disburse", request=payout("D-9"))
    assert (timeout.value.outcome, timeout.value.retryable) == ("timeout", True)
    [record] = db_session.scalars(select(PluginCall)).all()
    assert (record.plugin, record.hook, record.outcome) == ("sandbox_bank", "payment_disburse", "timeout")
    assert db_session.scalar(select(func.count()).select_from(BankOrder)) == 0  # the bank's books are its own
    retry = call(manager, db_session, "payment_disburse", request=payout("D-9"))
    assert retry.status == "pending"
    with open_bank(config, NOW, None) as bank:
        bank.settle_due()
        statement = bank.statement(NOW.date()).decode()
        orders = bank.session.scalar(select(func.count()).select_from(BankOrder))
    assert orders == 1 and statement.count("D-9") == 1


def test_a_callback_with_a_bad_signature_is_rejected(manager, db_session):
    call(manager, db_session, "payment_disburse", request=payout("D-1"))
    [(headers, body)] = settle(db_session)
    forged_body = body.replace(b'"12000.00"', b'"120000.00"')
    stale = callbacks.sign(callbacks.DEV_SECRET, json.loads(body), NOW - timedelta(hours=1))
    other_secret = callbacks.sign("someone else's secret", json.loads(body), NOW)
    no_signature = {k: v for k, v in headers.items() if k != callbacks.SIGNATURE_HEADER}
    for bad_headers, bad_body in ((headers, forged_body), stale, other_secret, (no_signature, body)):
        with pytest.raises(PluginFailure) as failure:
            call(manager, db_session, "payment_verify_callback", headers=bad_headers, body=bad_body)
        assert failure.value.outcome == "refused"
        assert isinstance(failure.value.cause, CallbackSignatureError)
    lower_case = {k.lower(): v for k, v in headers.items()}
    assert call(manager, db_session, "payment_verify_callback", headers=lower_case, body=body).status == "succeeded"


def test_refunds_return_at_most_what_the_debit_collected(db_session):
    config = {"settle_delay_seconds": 60}
    manager = make_manager({"sandbox_bank": config})
    bind(db_session)
    call(manager, db_session, "payment_debit", request=payout("C-1", "500.00"))
    with pytest.raises(PluginFailure) as unsettled:
        call(manager, db_session, "payment_refund",
             request=RefundRequest(request_id="R-0", original_request_id="C-1", amount=Decimal("1.00")))
    assert isinstance(unsettled.value.cause, RefundRefusedError)
    settle(db_session, config, at=NOW + timedelta(minutes=2))
    first = call(manager, db_session, "payment_refund",
                 request=RefundRequest(request_id="R-1", original_request_id="C-1", amount=Decimal("200.00")))
    assert first.status == "pending"
    too_much = call(manager, db_session, "payment_refund",
                    request=RefundRequest(request_id="R-2", original_request_id="C-1", amount=Decimal("300.01")))
    assert (too_much.status, too_much.failure_code) == ("failed", "REFUND_EXCEEDED")
    with pytest.raises(PluginFailure) as unknown:
        call(manager, db_session, "payment_query", request_id="NEVER-SENT")
    assert isinstance(unknown.value.cause, UnknownRequestError)
