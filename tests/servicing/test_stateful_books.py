"""Random servicing histories keep the books right (hypothesis ``RuleBasedStateMachine``).

Random loans (weekly or monthly, every method, upfront and per-period fees, compound penalty or not,
grace days) go through random sequences of: disbursement, partial / exact / over-payments, full and
partial prepayments under both re-scheduling modes, skipped payments while end-of-day runs for random
spans of days, reversal of a repayment or a prepayment (with the replay of what followed), penalty
waivers on the whole loan or on one installment, suspense applied or refunded, and write-offs. A
prepayment is quoted first and paid with exactly the quote, which must be accepted with nothing over.
After every step: the trial balance is zero, the loan sub-ledger reconciles to the GL control accounts,
every loan's balances from the journal equal the projection, nothing is negative, the installments agree
with the ledger, and the books of the last
closed business date are what they were when it closed (a reversal books on its own date). On SQLite
and on PostgreSQL; the PostgreSQL database is emptied between examples.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select, text

from core.businessday.closes import last_closed
from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from core.errors import LoanFactoryError
from core.finance.reconciliation import reconcile
from core.ledger import loan_balances
from core.loans.adjustments import waive_penalty, write_off
from core.loans.contract import ServicingRules
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from core.loans.penalty import PenaltyPolicy
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import amount_due, apply_suspense, refund_suspense, repay
from core.loans.reversal import reverse_repayment
from servicing.helpers import book, check_books, installments, seed_calendar, trial_balance_through

START = date(2026, 3, 2)


def _reset(engine):
    if engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)


def machine_for(engine):
    class BooksMachine(RuleBasedStateMachine):
        loans = Bundle("loans")

        @initialize()
        def fresh_books(self):
            _reset(engine)
            self.session = make_session_factory(engine)()
            seed_calendar(self.session)
            self.session.commit()
            self.today = START
            self.counter = 0
            self.closed_books = {}

        def teardown(self):
            self.session.rollback()
            self.session.close()

        def key(self, kind):
            self.counter += 1
            return f"{kind}-{self.counter}"

        def attempt(self, operation):
            try:
                operation()
                self.session.commit()
            except LoanFactoryError:
                self.session.rollback()

        def open_loan(self, loan_id):
            loan = self.session.get(Loan, loan_id)
            self.session.refresh(loan)
            return loan.state in ("active", "overdue")

        @rule(target=loans, principal=st.integers(10, 300).map(lambda k: D(k * 100)),
              rate=st.sampled_from(["0.0435", "0.12", "0.24"]), periods=st.integers(2, 8),
              method=st.sampled_from(["equal_installment", "equal_principal", "interest_only", "bullet"]),
              weekly=st.booleans(), upfront=st.sampled_from(["0", "50.00"]), fee=st.sampled_from(["0", "3.00"]),
              compound=st.booleans(), grace=st.integers(0, 3))
        def disburse(self, principal, rate, periods, method, weekly, upfront, fee, compound, grace):
            rules = ServicingRules(penalty=PenaltyPolicy(compound=compound, grace_days=grace))
            loan = book(self.session, principal=str(principal), rate=rate, periods=periods, start=self.today,
                        method=method, rules=rules, upfront_fee=upfront, fee_per_period=fee,
                        frequency="weekly" if weekly and method != "bullet" else "monthly", key=self.key("loan"))
            self.session.commit()
            return loan.id

        @rule(loan_id=loans, how=st.sampled_from(["partial", "exact", "over"]), share=st.integers(1, 99))
        def pay(self, loan_id, how, share):
            if not self.open_loan(loan_id):
                return
            due = amount_due(self.session, loan_id=loan_id, on=self.today)
            amount = {"exact": due, "over": due + D("37.50"),
                      "partial": (due * share / 100).quantize(D("0.01"))}[how]
            if amount <= 0:
                amount = D("10.00")
            self.attempt(lambda: repay(self.session, loan_id=loan_id, amount=amount, on=self.today, today=self.today,
                                       channel="sandbox_bank", key=self.key("pay"), actor="hypothesis"))

        @rule(loan_id=loans, mode=st.sampled_from(["full", "keep_term", "keep_installment"]), share=st.integers(5, 80))
        def prepayment(self, loan_id, mode, share):
            if not self.open_loan(loan_id):
                return

            principal = None
            if mode != "full":
                outstanding = loan_balances(self.session, loan_id).principal
                principal = max(D("1.00"), (outstanding * share / 100).quantize(D("0.01")))
            try:
                quote = prepayment_quote(self.session, loan_id=loan_id, on=self.today, today=self.today,
                                         principal=principal)
            except LoanFactoryError:
                self.session.rollback()
                return
            event = prepay(self.session, loan_id=loan_id, amount=quote.payable, on=self.today, today=self.today,
                           channel="sandbox_bank", key=self.key("prepay"), actor="hypothesis", principal=principal,
                           mode="keep_term" if mode == "full" else mode, keep_for_refund=bool(quote.held_after))
            assert event.result["total"] == str(quote.total.quantize(D("0.01")))
            assert event.result["excess"] == "0.00"
            self.session.commit()
            if quote.full:
                assert loan_balances(self.session, loan_id).suspense == quote.held_after

        @rule(days=st.integers(1, 12))
        def end_of_day(self, days):
            last = self.today + timedelta(days=days - 1)
            run_eod(self.session, last)
            self.session.commit()
            self.today = last + timedelta(days=1)

        @rule(loan_id=loans, pick=st.integers(0, 10))
        def reverse(self, loan_id, pick):
            payments = self.session.scalars(select(ServicingEvent.id).where(
                ServicingEvent.loan_id == loan_id, ServicingEvent.kind.in_(["repayment", "prepayment"]),
                ServicingEvent.status == "posted")).all()
            if not payments:
                return
            chosen = payments[pick % len(payments)]
            self.attempt(lambda: reverse_repayment(self.session, loan_id=loan_id, repayment_id=chosen, on=self.today,
                                                   key=self.key("rev"), actor="hypothesis"))

        @rule(loan_id=loans, one_installment=st.booleans())
        def waive(self, loan_id, one_installment):
            if not self.open_loan(loan_id):
                return
            owed, period = loan_balances(self.session, loan_id).penalty, None
            if one_installment:
                rows = installments(self.session, loan_id)
                most = max(rows, key=lambda r: r.penalty - r.paid_penalty - r.waived_penalty)
                owed, period = most.penalty - most.paid_penalty - most.waived_penalty, most.period
            if owed > D("0.01"):
                self.attempt(lambda: waive_penalty(self.session, loan_id=loan_id, amount=(owed / 2).quantize(D("0.01")),
                                                   on=self.today, key=self.key("waive"), actor="hypothesis",
                                                   period=period))

        @rule(loan_id=loans, refund=st.booleans())
        def suspense(self, loan_id, refund):
            held = loan_balances(self.session, loan_id).suspense
            if refund and held > 0:
                self.attempt(lambda: refund_suspense(self.session, loan_id=loan_id, amount=held, on=self.today,
                                                     today=self.today, channel="sandbox_bank", key=self.key("refund"),
                                                     actor="hypothesis"))
            elif not refund and self.open_loan(loan_id):
                self.attempt(lambda: apply_suspense(self.session, loan_id=loan_id, on=self.today, today=self.today,
                                                    key=self.key("apply"), actor="hypothesis"))

        @precondition(lambda self: self.counter > 3)
        @rule(loan_id=loans)
        def write_off_loan(self, loan_id):
            if self.open_loan(loan_id):
                self.attempt(lambda: write_off(self.session, loan_id=loan_id, on=self.today, key=self.key("wo"),
                                               actor="hypothesis"))

        @invariant()
        def books_are_right(self):
            if hasattr(self, "session"):
                check_books(self.session)

        @invariant()
        def the_sub_ledger_reconciles_to_the_general_ledger(self):
            if hasattr(self, "session"):
                assert reconcile(self.session).differences == []

        @invariant()
        def closed_days_keep_their_books(self):
            if not hasattr(self, "session"):
                return
            closed = last_closed(self.session)
            if closed is not None:
                books = trial_balance_through(self.session, closed)
                assert self.closed_books.setdefault(closed, books) == books, closed

    return BooksMachine


@pytest.mark.parametrize("examples", [8])
def test_random_servicing_histories_keep_the_books_balanced_and_consistent(db_url, examples):
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    machine = machine_for(engine)
    machine.TestCase.settings = settings(max_examples=examples, stateful_step_count=12, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    try:
        machine.TestCase().runTest()
    finally:
        engine.dispose()
