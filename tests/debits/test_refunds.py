"""An overpayment in suspense is refunded to the card under maker-checker: the bank refunds the debit it came
from, the ledger posts the refund under the same request id, and the day's reconciliation matches it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from core.backoffice.audit import ChangeRequest
from core.backoffice.users import FourEyesError, PermissionDeniedError, User
from core.debits.refunds import decide_refund, file_refund
from core.loans.context import suspense_of
from debits.debit_helpers import delivered, due_run, instructions, moment, seed_years, settle_and_call_back
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.models import BankOrder
from plugins.sandbox_bank.reconcile import reconcile_with_ledger
from plugins.sandbox_bank.statement import read_statement
from tests.api.conftest import (
    PAYMENT_PLUGINS,
    Channel,
    application_body,
    book_loan,
    make_api_app,
    new_key,
    publish_sample,
    sample,
    selling,
)

DUE = date(2026, 4, 2)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from selling(f"sqlite:///{tmp_path}/refunds.sqlite3")


def _person(username: str, role: str) -> User:
    return User(username=username, display_name=username, password_hash="x", role_names=role, active=True)


def test_an_overpayment_is_refunded_to_the_card_after_a_second_person_approves(app):
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    channel = Channel(app.test_client(), new_key(app))
    loan_id = book_loan(app, channel, application_body("12000.00", 12))
    delivered(app)
    due_run(app, DUE, 9)
    assert settle_and_call_back(app, DUE, 9) == [200]
    (debit,) = instructions(app, loan_id)
    paid_twice = channel.post(f"/api/v1/loans/{loan_id}/repayments", {"amount": f"{debit.collected:.2f}"})
    assert paid_twice.status_code == 201  # the borrower also paid through the app: the money waits in suspense
    operations, finance = _person("ops1", "finance,operations"), _person("fin1", "finance")
    with app.app_context():
        session = get_db(app).session()
        session.add_all([operations, finance])
        session.flush()
        assert suspense_of(session, loan_id) == debit.collected
        with pytest.raises(PermissionDeniedError):
            file_refund(session, maker=finance, loan_id=loan_id, amount=debit.collected, on=DUE, reason="多缴")
        change = file_refund(session, maker=operations, loan_id=loan_id, amount=debit.collected, on=DUE,
                             reason="借款人重复还款")
        with pytest.raises(FourEyesError):  # the maker may approve refunds, but not their own
            decide_refund(session, get_plugins(app), change, checker=operations, approve=True, today=DUE)
        get_plugins(app).clock = lambda: moment(DUE, 16)
        decide_refund(session, get_plugins(app), change, checker=finance, approve=True, today=DUE)
        session.commit()
        assert change.state == "executed" and suspense_of(session, loan_id) == Decimal(0)
        with open_bank({}, moment(DUE, 17), session) as bank:
            refund = session.scalar(select(BankOrder).where(BankOrder.kind == "refund"))
            assert (refund.request_id, refund.original_request_id, refund.amount) == (
                f"LF-REFUND-{change.id}", debit.request_id, debit.collected)
            bank.settle_due()
            statement = bank.statement(DUE)
        session.commit()
        on, lines = read_statement(statement)
        result = reconcile_with_ledger(session, "sandbox_bank", on, lines)
        references = {d.reference for d in result.differences}
        assert f"LF-REFUND-{change.id}" not in references and debit.request_id not in references
        assert result.matched >= 2  # the debit in, the refund out (the app's repayment moved no bank money)


@pytest.fixture
def refunding_app(tmp_path: Path) -> Iterator[Flask]:
    """The consumer product with ``debit.overpayment`` ``refund``."""
    app = make_api_app(f"sqlite:///{tmp_path}/refunding.sqlite3", **PAYMENT_PLUGINS)
    document = sample("consumer_installment")
    document["debit"]["overpayment"] = "refund"
    publish_sample(app, "consumer_installment", document)
    yield app
    get_db(app).engine.dispose()


def test_a_debit_that_overpays_files_its_refund_when_the_product_says_refund(refunding_app):
    app = refunding_app
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    channel = Channel(app.test_client(), new_key(app))
    loan_id = book_loan(app, channel, application_body("12000.00", 12))
    delivered(app)
    due_run(app, DUE, 9)
    (debit,) = instructions(app, loan_id)
    assert channel.post(f"/api/v1/loans/{loan_id}/repayments", {"amount": f"{debit.amount:.2f}"}).status_code == 201
    assert settle_and_call_back(app, DUE, 9) == [200]  # the debit lands after the borrower paid in the app
    with app.app_context():
        session = get_db(app).session()
        (change,) = session.scalars(select(ChangeRequest)).all()
        assert (change.kind, change.maker, change.state, change.entity_id, change.params["amount"]) == (
            "suspense_refund", "system:debits", "pending", str(loan_id), f"{debit.amount:.2f}")
        finance = _person("fin1", "finance")
        session.add(finance)
        session.flush()
        decide_refund(session, get_plugins(app), change, checker=finance, approve=True, today=DUE)
        session.commit()
        assert suspense_of(session, loan_id) == Decimal(0)
