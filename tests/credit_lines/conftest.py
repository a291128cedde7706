"""Fixtures of the credit-line tests: an app selling the revolving line sample, on SQLite and PostgreSQL.

The kernel is driven in the app's session and plugin manager (the sandbox bureau, scorecard, bank and
e-signature), as a face would drive it; each helper commits, as a request would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from core.businessday.calendar import seed_calendar
from core.credit_lines.application import accept_line, apply_for_line
from core.credit_lines.drawdown import DrawdownResult, request_drawdown
from core.credit_lines.models import CreditLine
from core.origination.published import published_offer
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from tests.api.conftest import (
    GOOD_ID,
    PAYMENT_PLUGINS,
    PAYOUT_DAY,
    application_body,
    bank_callbacks,
    make_api_app,
    publish_sample,
    sample,
)

CODE = "REVOLVING_CREDIT_LINE"
TODAY = PAYOUT_DAY.date()
NOW = PAYOUT_DAY


def line_app(db_url: str, document: dict[str, Any] | None = None, **config: Any) -> Iterator[Flask]:
    """The app with the sandboxes and the line sample (or ``document``) published, the calendar seeded and
    the payment plugins' clock on :data:`PAYOUT_DAY` (a fixture's body: ``yield from``)."""
    app = make_api_app(db_url, **PAYMENT_PLUGINS, **config)
    publish_sample(app, "revolving_credit_line", document)
    get_plugins(app).clock = lambda: PAYOUT_DAY
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, date(2026, 1, 1), date(2027, 12, 31))
        session.commit()
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def lines(db_url: str) -> Iterator[Flask]:
    yield from line_app(db_url)


@pytest.fixture
def non_revolving(db_url: str) -> Iterator[Flask]:
    """The app selling the line sample made non-revolving."""
    document = sample("revolving_credit_line")
    document["credit_line"]["revolving"] = False
    yield from line_app(db_url, document)


def session_of(app: Flask) -> Any:
    return get_db(app).session()


def grant(app: Flask, limit: str = "20000.00", *, id_no: str = GOOD_ID, channel: str = "partner-app") -> int:
    """Apply for a line of ``limit`` and accept it; the line's id."""
    with app.app_context():
        session = session_of(app)
        offer = published_offer(session, CODE)
        body = application_body(limit, id_no=id_no)
        del body["term"], body["method"]
        application = apply_for_line(session, get_plugins(app), offer, body, channel=channel,
                                     actor=f"channel:{channel}", now=NOW)
        assert application.state == "approved", application.decision
        line = accept_line(session, application, offer, actor=f"channel:{channel}", today=TODAY, now=NOW)
        session.commit()
        return line.id


def draw(app: Flask, line_id: int, amount: str, method: str = "equal_installment", term: int | None = 3, *,
         channel: str = "partner-app", today: date = TODAY) -> DrawdownResult:
    """Request a drawdown and commit; raises what the kernel raises (after rolling back)."""
    with app.app_context():
        session = session_of(app)
        body: dict[str, Any] = {"amount": amount, "method": method}
        if term is not None:
            body["term"] = term
        try:
            result = request_drawdown(session, get_plugins(app), published_offer(session, CODE), line_id, body,
                                      channel=channel, actor=f"channel:{channel}", today=today,
                                      now=datetime.combine(today, NOW.timetz()))
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise


def settle(app: Flask) -> int:
    """The sandbox bank settles every payout sent and calls back; how many loans were booked."""
    callbacks = bank_callbacks(app)
    for headers, payload in callbacks:
        response = app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=payload, headers=headers)
        assert response.status_code == 200, response.get_json()
    return len(callbacks)


def line_of(app: Flask, line_id: int) -> CreditLine:
    with app.app_context():
        session = session_of(app)
        line = session.get(CreditLine, line_id)
        session.expunge(line)
        return line


def used(app: Flask, line_id: int) -> Decimal:
    from core.credit_lines.limits import used_by_line

    with app.app_context():
        return used_by_line(session_of(app), [line_id])[line_id]


def prepay_in_full(app: Flask, application_id: int, on: date) -> None:
    """Prepay the whole loan booked from ``application_id`` on ``on`` (the business date), as the channel would."""
    from sqlalchemy import select

    from core.loans.models import Loan
    from core.loans.prepayment import prepay, prepayment_quote

    with app.app_context():
        session = session_of(app)
        loan_id = session.scalar(select(Loan.id).where(Loan.application_id == application_id))
        total = prepayment_quote(session, loan_id=loan_id, on=on, today=on).total
        prepay(session, loan_id=loan_id, amount=total, on=on, today=on, channel="sandbox_bank",
               key=f"prepay-{loan_id}", actor="channel:partner-app")
        session.commit()
