"""The cockpit's SQL aggregates on SQLite and PostgreSQL, against figures worked out by hand.

The seeded portfolio:

- applications: a draft (not counted); approved automatically in 30 minutes; rejected by a person after
  60 minutes; disbursed, decided automatically in 6 minutes; one still under review with a task. So 4
  applications, 3 decided, 2 approved (approved, disbursed), 2 automatic, average (30 + 60 + 6) / 3 = 32.0
  minutes; approval rate and automatic share 2/3 = 0.6667.
- loans of 10,000.00 each (four), measured at the end of 2026-03-07: A disbursed 2026-02-20 with 500.25 of
  principal prepaid on 2026-02-25, first due 2026-03-20, current; B disbursed 2026-01-15, its 2026-02-15
  installment unpaid, 20 days past due (M1, 关注); C disbursed 2025-11-02, its 2025-12-02 installment
  unpaid, 95 days past due (M4, 次级); D prepaid in full (not outstanding). Disbursed 4 for 40,000.00;
  outstanding 9,499.75 + 10,000.00 + 10,000.00 = 29,499.75; delinquent 20,000.00; rate 20,000.00 /
  29,499.75 = 0.6780; buckets M0 9,499.75, M1 10,000.00, M3+ 10,000.00; five-tier normal 9,499.75,
  special_mention 10,000.00, substandard 10,000.00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from admin.kpis import compute
from core.applications.models import Application
from core.customers.parties import Customer
from core.db.base import make_session_factory
from core.loans.disbursement import disburse
from core.loans.models import Loan
from core.loans.prepayment import prepay, prepayment_quote
from core.origination.approval import ApprovalTask
from core.schedule import LoanTerms

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    db = make_session_factory(db_engine)()
    yield db
    db.close()


def _application(db: Session, customer: Customer, state: str, created: datetime,
                 minutes: int | None, manual: bool = False) -> None:
    application = Application(customer_id=customer.id, channel="shop", product_code="CONSUMER_INSTALLMENT",
                              product_version_id=1, amount=Decimal("10000.00"), term=12, method="equal_installment",
                              state=state, created_at=created,
                              decided_at=created + timedelta(minutes=minutes) if minutes is not None else None)
    db.add(application)
    db.flush()
    if manual:
        db.add(ApprovalTask(application_id=application.id, step_index=0, step_name={"en": "review"},
                            role="risk_officer", four_eyes=False, due_at=created + timedelta(hours=24),
                            state="open", approvals=[]))


def _loan(db: Session, customer: Customer, key: str, start: date) -> Loan:
    terms = LoanTerms(principal=Decimal("10000"), annual_rate=Decimal("0.14"), periods=12, start_date=start)
    return disburse(db, key=key, customer_id=customer.id, terms=terms, channel="offline", actor="system",
                    product_code="CONSUMER_INSTALLMENT", product_version_id=1)


def _prepay(db: Session, loan: Loan, on: date, principal: str | None = None) -> None:
    total = prepayment_quote(db, loan_id=loan.id, on=on, today=on, principal=principal).total
    prepay(db, loan_id=loan.id, amount=total, on=on, today=on, channel="offline", key=f"prepay-{loan.id}",
           actor="system", principal=principal)


def test_the_cockpit_figures_of_a_seeded_portfolio(session: Session) -> None:
    db = session
    customer = Customer(name="张三丰", id_number="11010519491231002X", phone="13812345678",
                        monthly_income=Decimal("20000"))
    db.add(customer)
    db.flush()
    _application(db, customer, "draft", T0, None)
    _application(db, customer, "approved", T0 + timedelta(hours=1), 30)
    _application(db, customer, "rejected", T0 + timedelta(hours=1), 60, manual=True)
    _application(db, customer, "disbursed", T0, 6)
    _application(db, customer, "under_review", T0, None, manual=True)
    _prepay(db, _loan(db, customer, "a", date(2026, 2, 20)), date(2026, 2, 25), "500.25")
    _loan(db, customer, "b", date(2026, 1, 15))
    _loan(db, customer, "c", date(2025, 11, 2))
    _prepay(db, _loan(db, customer, "d", date(2026, 1, 15)), date(2026, 1, 20))
    db.commit()

    kpis = compute(db, date(2026, 3, 7))
    assert (kpis.applications, kpis.decided, kpis.approved, kpis.automatic) == (4, 3, 2, 2)
    assert kpis.average_minutes_to_decision == Decimal("32.0")
    assert kpis.approval_rate == kpis.automatic_share == Decimal("0.6667")
    assert (kpis.disbursed_count, kpis.disbursed_amount) == (4, Decimal("40000.00"))
    assert kpis.outstanding == Decimal("29499.75") and kpis.delinquent_outstanding == Decimal("20000.00")
    assert kpis.delinquency_rate == Decimal("0.6780")
    assert kpis.buckets == {"M0": Decimal("9499.75"), "M1": Decimal("10000.00"), "M2": 0,
                            "M3+": Decimal("10000.00")}
    assert kpis.five_tier == {"normal": Decimal("9499.75"), "special_mention": Decimal("10000.00"),
                              "substandard": Decimal("10000.00"), "doubtful": 0, "loss": 0}
    assert kpis.chart_data()["buckets"][0][0] == "M0"


def test_an_empty_book_has_no_rates(session: Session) -> None:
    kpis = compute(session)
    assert (kpis.applications, kpis.disbursed_count, kpis.outstanding) == (0, 0, Decimal(0))
    assert kpis.approval_rate is None and kpis.delinquency_rate is None and kpis.average_minutes_to_decision is None
