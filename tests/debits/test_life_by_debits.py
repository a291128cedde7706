"""A 12-month loan lives its whole life by automatic debits alone, on SQLite and on PostgreSQL.

CONSUMER_INSTALLMENT, 12,000.00 over 12 months, 等额本息, paid out 2026-03-02 (the sandbox bank's payout
day), so the installments fall due on the 2nd of each month from 2026-04-02 to 2027-03-02. The approval
prices the applicant in the product's 14% risk band: the monthly rate i is 0.14 / 12, the level installment
12000 × i × (1+i)^12 / ((1+i)^12 − 1) (numpy-financial ``pmt``), interest each month the balance × i
rounded half up to the fen, the last installment taking the rest; the service fee is 0.2% of the principal,
24.00, each month.

The product's debit plan: D+0 at 09:00, D+0 at 15:00, D+1, D+3, D+7, then every 7 days, at most 12 attempts.

* installment 2: the 09:00 debit fails (余额不足), the 15:00 retry collects it;
* installment 5 (due 2026-08-02): six attempts fail (D+0 twice, D+1, D+3, D+7, D+14); after the three
  grace days it is overdue and bears penalty interest from its due date (the grace charged back, the
  product's rule): principal × 0.14 × 1.5 / 360 a day, rounded down to the fen. Past the grace (D+4) the
  day's close also charges it the product's fixed 逾期管理费 of 20.00, once. The seventh attempt, on
  D+21 (2026-08-23), collects installment, fee, late fee and 21 days of penalty, and the loan is current
  again;
* every other installment is collected by its first attempt, and the last one pays the loan off.

Messages: a reminder three days before each due date, the due-day notice, a receipt or a failure notice
for every debit, the overdue notice on days 1, 3 and 7 (by SMS and app push, as the product's template
says) and the paid-off note, each sent once, within the hours.

Checked line by line: every instruction (attempt, state, failure code, amount asked and collected), every
repayment's journal entry (cash in, principal, interest, fee and penalty out of the receivables), the loan
state's transitions, the trial balance, and the sandbox bank's daily reconciliation file against the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP
from decimal import Decimal as D

import numpy_financial as npf
import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy import select

from core.debits.models import aware
from core.ledger import JournalEntry, Posting
from core.ledger.reports import trial_balance
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.messages.models import LoanMessage
from core.states import StateTransition
from debits.debit_helpers import (
    close_day,
    delivered,
    due_run,
    instructions,
    moment,
    seed_years,
    settle_and_call_back,
)
from loanfactory.database import get_db
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.reconcile import reconcile_with_ledger
from plugins.sandbox_bank.statement import read_statement
from tests.api.conftest import PAYOUT_DAY, Channel, application_body, book_loan, new_key, selling

FEN = D("0.01")
RATE = D("0.14")
PRINCIPAL = D("12000.00")
FEE = D("24.00")
LATE_FEE = D("20.00")  # the product's fixed late fee, charged once past the three grace days
DUE = [date(2026, 3, 2) + relativedelta(months=k) for k in range(1, 13)]


def schedule() -> list[tuple[D, D]]:
    """(principal, interest) of each installment, from first principles."""
    i = RATE / 12
    level = D(str(round(-npf.pmt(float(i), 12, float(PRINCIPAL)), 2)))
    balance, rows = PRINCIPAL, []
    for k in range(12):
        interest = (balance * i).quantize(FEN, ROUND_HALF_UP)
        principal = balance if k == 11 else level - interest
        rows.append((principal, interest))
        balance -= principal
    return rows


def penalty(principal: D, days: int) -> D:
    return (principal * RATE * D("1.5") / 360 * days).quantize(FEN, ROUND_DOWN)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    yield from selling(db_url)


def _plan_failures(app: Flask, times: int) -> None:
    with app.app_context():
        session = get_db(app).session()
        with open_bank({}, PAYOUT_DAY, session) as bank:
            bank.plan_fault("fail", operation="debit", code="INSUFFICIENT_FUNDS", times=times)
        session.commit()


def _collect_on(app: Flask, on: date, hour: int, sent: int = 1) -> None:
    report = due_run(app, on, hour)
    assert report.sent == sent, (on, hour, report)
    assert settle_and_call_back(app, on, hour) == [200] * sent


def _live(app: Flask) -> int:
    seed_years(app, date(2026, 1, 1), date(2027, 12, 31))
    loan_id = book_loan(app, Channel(app.test_client(), new_key(app)), application_body("12000.00", 12))
    delivered(app)
    for k, due in enumerate(DUE, start=1):
        close_day(app, due - timedelta(days=4))
        assert due_run(app, due - timedelta(days=3), 10).messages_sent >= 1  # the reminder, and earlier receipts
        close_day(app, due - timedelta(days=1))
        if k == 2:
            _plan_failures(app, 1)
            _collect_on(app, due, 9)
            assert due_run(app, due, 14).created == 0  # the retry waits for 15:00
            _collect_on(app, due, 15)
        elif k == 5:
            _plan_failures(app, 6)
            for offset, hour in ((0, 9), (0, 15), (1, 9), (3, 9), (7, 9), (14, 9), (21, 9)):
                day = due + timedelta(days=offset)
                close_day(app, day - timedelta(days=1))
                _collect_on(app, day, hour)
        else:
            _collect_on(app, due, 9)
        assert due_run(app, due, 23).created == 0  # nothing more the same day: idempotent
    close_day(app, DUE[-1])
    due_run(app, DUE[-1] + timedelta(days=1), 10)  # the last receipt and the paid-off note go out
    return loan_id


def expected_messages() -> set[tuple[str, int | None, date, str]]:
    """(event, installment, business date, channel) of every message the life calls for."""
    late = DUE[4]
    rows = {("reminder", k, due - timedelta(days=3), "sms") for k, due in enumerate(DUE, start=1)}
    rows |= {("due_today", k, due, "sms") for k, due in enumerate(DUE, start=1)}
    rows |= {("debit_succeeded", k, due, "sms") for k, due in enumerate(DUE, start=1) if k != 5}
    rows |= {("debit_succeeded", 5, late + timedelta(days=21), "sms"), ("debit_failed", 2, DUE[1], "sms")}
    rows |= {("debit_failed", 5, late + timedelta(days=d), "sms") for d in (0, 1, 3, 7, 14)}
    rows |= {("overdue", 5, late + timedelta(days=d), channel) for d in (1, 3, 7) for channel in ("sms", "app")}
    return rows | {("paid_off", None, DUE[-1], "sms")}


def test_a_12_month_loan_lives_by_debits_alone(app):
    loan_id = _live(app)
    rows = schedule()
    late_days = 21
    late_penalty = penalty(rows[4][0], late_days)
    expected_attempts = {k: [("succeeded", "")] for k in range(1, 13)}
    expected_attempts[2] = [("failed", "INSUFFICIENT_FUNDS"), ("succeeded", "")]
    expected_attempts[5] = [("failed", "INSUFFICIENT_FUNDS")] * 6 + [("succeeded", "")]
    made = instructions(app, loan_id)
    assert {k: [(r.state, r.failure_code) for r in made if r.period == k] for k in range(1, 13)} == expected_attempts
    for row in made:
        principal, interest = rows[row.period - 1]
        owed = principal + interest + FEE
        if row.period == 5 and row.state == "succeeded":
            owed += late_penalty + LATE_FEE
        if row.period == 5 and row.state == "failed":
            continue  # the amount asked grows with the penalty each time; the collected one is checked
        assert (row.amount, row.collected if row.state == "succeeded" else D(0)) == (
            owed, owed if row.state == "succeeded" else D(0)), row.request_id

    with app.app_context():
        session = get_db(app).session()
        loan = session.get(Loan, loan_id)
        assert loan.annual_rate == RATE
        assert (loan.state, loan.closed_on, loan.days_past_due) == ("paid_off", DUE[-1], 0)
        moves = [(t.from_state, t.to_state) for t in session.scalars(
            select(StateTransition).where(StateTransition.entity_type == "loan", StateTransition.entity_id == loan_id)
            .order_by(StateTransition.id))]
        assert moves == [(None, "active"), ("active", "overdue"), ("overdue", "active"), ("active", "paid_off")]
        debit_events = [t.to_state for t in session.scalars(select(StateTransition).where(
            StateTransition.entity_type == "debit").order_by(StateTransition.id))]
        assert debit_events.count("failed") == 7 and debit_events.count("succeeded") == 12

        for row in (r for r in made if r.state == "succeeded"):
            event = session.get(ServicingEvent, row.event_id)
            assert (event.kind, event.request_key, event.business_date) == ("repayment", row.request_id,
                                                                             DUE[row.period - 1] + timedelta(
                                                                                 days=late_days if row.period == 5
                                                                                 else 0))
            lines = {(p.account, p.debit, p.credit) for p in session.scalars(
                select(Posting).join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(JournalEntry.idempotency_key.like(f"svc:{event.id}:%"), JournalEntry.event == "repayment"))}
            principal, interest = rows[row.period - 1]
            expected = {("1002.sandbox_bank", row.collected, D(0)), ("1303", D(0), principal),
                        ("1132", D(0), interest)}
            if row.period == 5:
                expected.add(("1134", D(0), late_penalty))
            expected.add(("1133", D(0), FEE + (LATE_FEE if row.period == 5 else D(0))))
            assert lines == expected, row.period

        log = session.scalars(select(LoanMessage).where(LoanMessage.loan_id == loan_id)).all()
        assert {(m.event, m.period, m.business_date, m.channel) for m in log} == expected_messages()
        assert len(log) == len(expected_messages()) + 1  # installment 5's two failures on its due date
        assert all(m.state == "sent" and m.outcome == "delivered" for m in log), [
            (m.key, m.state, m.error) for m in log if m.state != "sent"]
        assert all(moment(m.business_date, 8) <= aware(m.sent_at) for m in log)

        balances = trial_balance(session)
        assert balances.balanced
        receivables = {b.account: b.debit - b.credit for b in balances.rows
                       if b.account in ("1303", "1132", "1133", "1134")}
        assert all(value == 0 for value in receivables.values()), receivables

        days = sorted({DUE[k] for k in range(12)} | {DUE[4] + timedelta(days=o) for o in (1, 3, 7, 14, 21)})
        with open_bank({}, PAYOUT_DAY, session) as bank:
            files = {day: bank.statement(day) for day in days}
        for day, content in files.items():
            on, lines = read_statement(content)
            result = reconcile_with_ledger(session, "sandbox_bank", on, lines)
            assert result.balanced, (day, result.differences)
            assert result.matched == (1 if (day in DUE and day != DUE[4]) or day == DUE[4] + timedelta(days=21)
                                      else 0), day
