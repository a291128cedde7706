"""``GET /loans/{id}/balances`` costs the same for a loan on its first day as for one with two thousand
postings: the same statements, none of them on the journal (the projection answers; the journal proves it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from books.factories import accrue_days, add_customer, add_loan, disburse_with_fee, postings_of
from flask import Flask
from sqlalchemy import event

from core.applications.models import Application
from core.ledger import journal_balances
from loanfactory.database import get_db
from tests.api.conftest import Channel, new_key

CHANNEL = "partner-app"


def channel_loans(app: Flask) -> tuple[int, int]:
    """Two loans of the channel: one on its first day (3 postings), one with 2,003."""
    with app.app_context():
        session = get_db(app).session()
        customer = add_customer(session)
        loans = []
        for _ in range(2):
            application = Application(customer_id=customer.id, channel=CHANNEL, product_code="cash_12m",
                                      product_version_id=1, amount=Decimal("12000.00"), term=12,
                                      method="equal_installment")
            session.add(application)
            session.flush()
            loan = add_loan(session, customer)
            loan.application_id = application.id
            disburse_with_fee(session, loan.id)
            loans.append(loan.id)
        accrue_days(session, loans[1], 1000)
        session.commit()
        assert [postings_of(session, loan_id) for loan_id in loans] == [3, 2003]
        return loans[0], loans[1]


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = get_db(app).engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_balances_of_a_day_one_loan_and_a_two_thousand_posting_loan_cost_the_same_statements(db_app):
    new, old = channel_loans(db_app)
    channel = Channel(db_app.test_client(), new_key(db_app, CHANNEL))
    answers, sent = {}, {}
    for loan_id in (new, old):
        with statements(db_app) as seen:
            response = channel.get(f"/api/v1/loans/{loan_id}/balances")
        assert response.status_code == 200, response.get_json()
        # the key's row is read or not as the key cache's listener stands (core.channels.key_cache),
        # whichever the loan: what is read for the loan is what must not grow
        answers[loan_id], sent[loan_id] = response.get_json(), [sql for sql in seen if "api_clients" not in sql]
    assert sent[new] == sent[old]
    assert not [sql for sql in sent[old] if "ledger_postings" in sql]
    assert sum("loan_balances" in sql for sql in sent[old]) == 1
    assert answers[new] == {"loan_id": new, "principal": "12000.00", "interest": "0.00", "fee": "0.00",
                            "penalty": "0.00", "total": "12000.00", "overpayment": "0.00"}
    assert answers[old]["interest"] == "1450.00" and answers[old]["total"] == "13450.00"
    with db_app.app_context():
        proof = journal_balances(get_db(db_app).session(), old)
    assert (proof.interest, proof.receivable) == (Decimal("1450.0000"), Decimal("13450.0000"))
