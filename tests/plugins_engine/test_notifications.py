"""The notifications plugin: templates rendered exactly, refused when incomplete, delivered once to the outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.errors import InvalidArgumentError
from core.plugins.manager import PluginManager, PluginSettings
from core.plugins.types import NotificationRequest, PluginFailure, TemplateNotFoundError, TemplateVariableMissingError
from plugins.notifications.models import DeliveryRecord, OutboxMessage
from plugins.notifications.rendering import render, template_text

NOW = datetime(2026, 2, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DUE = {"name": "王小明", "installment": "2", "due_amount": "1,100.16", "due_date": "2026-02-15"}


def gateway(**config) -> PluginManager:
    manager = PluginManager(PluginSettings(load_entrypoints=False, plugin_config={"notifications": config}),
                            clock=lambda: NOW)
    manager.load(("plugins.notifications",))
    return manager


def send(manager, session, request_id="N-1", **changes):
    fields = dict(request_id=request_id, channel="sms", recipient="13812345678", template="repayment_due",
                  variables=DUE)
    return manager.call("notifications", "notification_send", session=session,
                        message=NotificationRequest(**{**fields, **changes}))


def test_the_repayment_reminder_sms_reads_in_full():
    text = template_text("repayment_due", "zh_CN", "sms")
    assert render(text, DUE) == "【借款工厂】王小明，您的第2期还款1,100.16元将于2026-02-15到期，请保持银行卡余额充足。"


def test_every_missing_variable_is_named_at_once():
    with pytest.raises(TemplateVariableMissingError) as error:
        render(template_text("repayment_due", "en", "email"), {"name": "Wang"}, "repayment_due")
    assert error.value.field == "variables.installment"
    assert "installment, due_amount, due_date" in str(error.value)


def test_doubled_braces_are_literal_and_a_stray_brace_is_refused():
    assert render("{{code}} = {code}", {"code": "8841"}) == "{code} = 8841"
    with pytest.raises(InvalidArgumentError, match="stray"):
        render("余额 {amount", {"amount": "1"})


def test_unknown_template_locale_or_channel_is_refused():
    with pytest.raises(TemplateNotFoundError):
        template_text("no_such_event", "zh_CN", "sms")
    with pytest.raises(TemplateNotFoundError, match="fr sms"):
        template_text("approved", "fr_FR", "sms")


def test_the_products_own_text_wins_over_the_shipped_template(sqlite_session):
    text = "{name}，您的第{installment}期还款{due_amount}元将于{due_date}到期。"
    receipt = send(gateway(), sqlite_session, text=text)
    assert receipt.rendered == "王小明，您的第2期还款1,100.16元将于2026-02-15到期。"


def test_configured_templates_add_events(sqlite_session):
    manager = gateway(templates={"otp": {"zh": {"sms": "验证码{code}，5分钟内有效。"}}})
    receipt = send(manager, sqlite_session, template="otp", variables={"code": "663012"})
    assert receipt.rendered == "验证码663012，5分钟内有效。"


def test_a_message_goes_to_the_outbox_masked_with_sent_then_delivered(db_session):
    receipt = send(gateway(), db_session)
    assert receipt.status == "delivered" and receipt.provider_reference.startswith("SMSG-")
    message = db_session.scalars(select(OutboxMessage)).one()
    assert message.recipient_masked == "138****5678" and "13812345678" not in message.recipient_masked
    assert [d.status for d in message.deliveries] == ["sent", "delivered"]
    assert message.body == receipt.rendered and message.created_at is not None


def test_sending_the_same_request_again_sends_nothing_new(db_session):
    manager = gateway()
    first = send(manager, db_session)
    assert send(manager, db_session).provider_reference == first.provider_reference
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert db_session.scalar(select(func.count()).select_from(DeliveryRecord)) == 2


def test_an_unreachable_recipient_gets_a_failed_delivery_record(db_session):
    receipt = send(gateway(unreachable=["13812345678"]), db_session)
    assert receipt.status == "failed"
    assert [d.status for d in db_session.scalars(select(OutboxMessage)).one().deliveries] == ["sent", "failed"]


@pytest.mark.parametrize(("channel", "recipient"), [("sms", "0755-1234567"), ("email", "not-an-address"),
                                                    ("app", " ")])
def test_a_bad_recipient_is_refused_and_nothing_stored(sqlite_session, channel, recipient):
    with pytest.raises(PluginFailure) as failure:
        send(gateway(), sqlite_session, channel=channel, recipient=recipient, template="approved",
             variables={"name": "王", "product": "随借随还", "amount": "5000", "apr": "18%", "term": "12"})
    assert failure.value.outcome == "refused" and failure.value.cause.field == "recipient"
    assert sqlite_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_email_address_is_masked_to_its_first_letter(sqlite_session):
    send(gateway(), sqlite_session, channel="email", recipient="wang.xiaoming@example.com", locale="en")
    assert sqlite_session.scalars(select(OutboxMessage.recipient_masked)).one() == "w***@example.com"


def test_a_gateway_outage_fails_retryably_with_nothing_stored(db_session):
    with pytest.raises(PluginFailure) as failure:
        send(gateway(failure_rate=1), db_session)
    assert failure.value.outcome == "error" and failure.value.retryable
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
