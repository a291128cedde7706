"""Driving a book through business days by debits alone: the due run, the bank's settlement and callbacks,
and end-of-day, each at a chosen moment of a chosen business date."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from core.businessday.calendar import seed_calendar
from core.debits.models import DebitInstruction
from core.eod.run import run_eod
from loanfactory.database import get_db
from loanfactory.plugins_host import get_plugins
from loanfactory.tasks.debits import DueRunReport, run_locally
from plugins.sandbox_bank.bank import open_bank

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLBACK = "/api/v1/callbacks/payments/sandbox_bank"
#: the card of ``tests.api.conftest.application_body``
ACCOUNT = "6222020200112233445"


def moment(on: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(on, time(hour, minute), SHANGHAI)


def seed_years(app: Flask, first: date, last: date) -> None:
    with app.app_context():
        session = get_db(app).session()
        seed_calendar(session, first, last)
        session.commit()


def business_day(app: Flask, on: date, hour: int) -> datetime:
    """Make ``on`` the app's business date and ``hour`` (Asia/Shanghai) the plugins' clock; returns the moment."""
    at = moment(on, hour)
    app.config["API_BUSINESS_DATE"] = on
    get_plugins(app).clock = lambda: at
    return at


def due_run(app: Flask, on: date, hour: int, *, workers: int = 1) -> DueRunReport:
    """The due run at ``hour`` of ``on``."""
    at = business_day(app, on, hour)
    return run_locally(app, on, hour=hour, now=at, workers=workers)


def settle_and_call_back(app: Flask, on: date, hour: int, minute: int = 30,
                         config: dict[str, Any] | None = None) -> list[int]:
    """The bank settles what is due at ``hour:minute`` of ``on`` and delivers every callback in its outbox to
    the API (each marked delivered once accepted); returns the HTTP statuses."""
    at = moment(on, hour, minute)
    business_day(app, on, hour)
    get_plugins(app).clock = lambda: at
    bank_config = dict(config if config is not None else
                       (app.config.get("PLUGIN_CONFIG") or {}).get("sandbox_bank", {}))
    statuses = []
    with app.app_context():
        session = get_db(app).session()
        with open_bank(bank_config, at, None if bank_config.get("database_url") else session) as bank:
            bank.settle_due()
            outbox = [(c.id, dict(c.headers), c.body.encode()) for c in bank.undelivered_callbacks()]
        session.commit()
        client = app.test_client()
        for callback_id, headers, body in outbox:
            status = client.post(CALLBACK, data=body, headers=headers).status_code
            statuses.append(status)
            if status == 200:
                with open_bank(bank_config, at, None if bank_config.get("database_url") else session) as bank:
                    bank.mark_delivered(callback_id)
                session.commit()
        session.close()
    return statuses


def delivered(app: Flask, card: str = ACCOUNT, holder: str = "张三") -> None:
    """Mark the bank's outbox delivered (``book_loan`` posts the payout's callback without telling the bank),
    and bind the borrower's card for debits at the bank (协议支付), balance untracked."""
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, moment(date(2026, 3, 2), 10), session) as bank:
            for callback in bank.undelivered_callbacks():
                bank.mark_delivered(callback.id)
            bank.bind_card(card, holder)
        session.commit()


def close_day(app: Flask, on: date) -> None:
    """End-of-day through ``on`` (every pending date up to it), in one transaction."""
    app.config["API_BUSINESS_DATE"] = on
    with app.app_context():
        session = get_db(app).session()
        run_eod(session, on)
        session.commit()


def instructions(app: Flask, loan_id: int) -> list[DebitInstruction]:
    with app.app_context():
        session = get_db(app).session()
        rows = list(session.scalars(select(DebitInstruction).where(DebitInstruction.loan_id == loan_id)
                                    .order_by(DebitInstruction.period, DebitInstruction.attempt)))
        session.expunge_all()
        session.close()
    return rows
