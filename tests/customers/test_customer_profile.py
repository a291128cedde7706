"""The computed profile (用户画像) and the tag rules over it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session
from stdnum.cn import ric

from core.applications.models import Application
from core.customers.enterprises import register_enterprise
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef
from core.customers.tags import RULE, tags_of
from core.db.base import Base, make_engine, make_session_factory
from core.errors import InvalidArgumentError
from core.loans.contract import Contract
from core.loans.models import Loan, LoanInstallment
from core.portfolio.customer_profile import customer_profile
from core.portfolio.customer_tags import apply_tag_rules, parse_rule_sets, rule_set_on, shipped_rule_sets
from core.schedule import LoanTerms
from core.states import LOAN_STATES
from loanfactory.cli import main

AS_OF = date(2026, 6, 10)
NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)


def id_no(birth: str, sequence: int) -> str:
    first = f"110101{birth}{sequence:03d}"
    return first + ric.calc_check_digit(first + "0")


def customer(session: Session, birth: str = "19900101") -> Customer:
    row = Customer(name="张三", id_number=id_no(birth, 5), phone="13812345678")
    session.add(row)
    session.flush()
    return row


def application(session: Session, customer_id: int, score: int | None, created: datetime,
                enterprise_id: int | None = None) -> Application:
    row = Application(customer_id=customer_id, enterprise_id=enterprise_id, channel="app", product_code="P",
                      product_version_id=1, amount=Decimal("1000"), term=6, method="equal_installment",
                      state="approved", score=score, created_at=created)
    session.add(row)
    session.flush()
    return row


def loan(session: Session, customer_id: int, application_id: int | None, code: str, state: str,
         lines: list[tuple[date, str, str, date | None]]) -> Loan:
    """A loan with installments ``(due date, principal, principal paid, paid on)``."""
    principal = sum((Decimal(p) for _d, p, _pp, _on in lines), Decimal(0))
    row = Loan(customer_id=customer_id, application_id=application_id, product_code=code, product_version_id=1,
               contract=Contract(LoanTerms(principal, Decimal("0.12"), len(lines), date(2026, 1, 10))),
               disbursed_on=date(2026, 1, 10), maturity_date=lines[-1][0], state=state)
    session.add(row)
    session.flush()
    for period, (due, principal, paid, paid_on) in enumerate(lines, start=1):
        session.add(LoanInstallment(loan_id=row.id, period=period, start=due, due_date=due,
                                    principal=Decimal(principal), interest=Decimal("10"),
                                    paid_principal=Decimal(paid), paid_on=paid_on,
                                    status="paid" if paid_on else "pending"))
    session.flush()
    return row


@pytest.fixture
def book(db_session: Session) -> dict[str, int]:
    """One borrower with two loans (one closed), and an enterprise with a loan of its own."""
    person = customer(db_session)
    first = application(db_session, person.id, 600, datetime(2026, 1, 5, tzinfo=UTC))
    second = application(db_session, person.id, 540, datetime(2026, 2, 5, tzinfo=UTC))
    application(db_session, person.id, None, datetime(2026, 3, 5, tzinfo=UTC))
    loan(db_session, person.id, first.id, "CONSUMER", "paid_off", [
        (date(2026, 2, 10), "500.00", "500.00", date(2026, 2, 9)),
        (date(2026, 3, 10), "500.00", "500.00", date(2026, 3, 24)),   # 14 days late
    ])
    loan(db_session, person.id, second.id, "HOME", "overdue", [
        (date(2026, 3, 10), "1000.00", "1000.00", date(2026, 3, 10)),
        (date(2026, 4, 10), "1000.00", "1000.00", date(2026, 4, 12)),  # 2 days late
        (date(2026, 5, 10), "1000.00", "400.00", None),               # unpaid: 31 days on 2026-06-10
        (date(2026, 6, 10), "1000.00", "0.00", None),                 # due today: not counted
        (date(2026, 7, 10), "1000.00", "0.00", None),                 # not due
    ])
    business = register_enterprise(db_session, person.id, name="示例公司", credit_code="91110000600037341L",
                                   industry_code="C13", registered_address="北京", account_bank_code="ICBC",
                                   account_number="123456789012", account_holder="示例公司",
                                   registered_capital=None, operating_address=None)[0]
    third = application(db_session, person.id, 650, datetime(2026, 4, 1, tzinfo=UTC), business.id)
    loan(db_session, person.id, third.id, "SME", "active", [(date(2026, 9, 1), "50000.00", "0.00", None)])
    return {"person": person.id, "enterprise": business.id}


def test_an_individuals_profile_counts_their_own_book(db_session, book):
    profile = customer_profile(db_session, PartyRef(INDIVIDUAL, book["person"]), AS_OF)
    # live: the HOME loan only (the SME loan is the enterprise's); outstanding principal 1000-400 + 1000 + 1000
    assert profile.exposure == Decimal("600.00") + Decimal("1000.00") + Decimal("1000.00")
    assert (profile.live_loans, profile.closed_loans, profile.products_held) == (1, 1, ("HOME",))
    assert profile.applications == 3
    assert profile.score_trend == ((date(2026, 1, 5), 600), (date(2026, 2, 5), 540))
    # due before 2026-06-10: 2 + 3 installments; on time: 02-09, 03-10; late: 03-24, 04-12; unpaid: 05-10
    assert (profile.installments_due, profile.paid_on_time, profile.paid_late, profile.unpaid_past_due) == (5, 2, 2, 1)
    assert [(line.due_date, line.days_late) for line in profile.dpd_history] == [
        (date(2026, 3, 10), 14), (date(2026, 4, 10), 2), (date(2026, 5, 10), 31)]
    assert profile.max_days_past_due == 31
    assert profile.on_time_ratio == Decimal(2) / Decimal(5)


def test_a_payment_after_the_profiles_day_does_not_count(db_session, book):
    earlier = customer_profile(db_session, PartyRef(INDIVIDUAL, book["person"]), date(2026, 3, 20))
    # on 2026-03-20 the installment paid on 03-24 was 10 days late and unpaid
    assert (earlier.paid_on_time, earlier.paid_late, earlier.unpaid_past_due) == (2, 0, 1)
    assert earlier.max_days_past_due == 10


def test_an_enterprises_profile_counts_only_its_applications(db_session, book):
    profile = customer_profile(db_session, PartyRef(ENTERPRISE, book["enterprise"]), AS_OF)
    assert (profile.exposure, profile.live_loans, profile.products_held) == (Decimal("50000.00"), 1, ("SME",))
    assert profile.applications == 1 and profile.installments_due == 0 and profile.on_time_ratio is None


def test_the_rules_in_force_tag_the_profile(db_session, book):
    tags = apply_tag_rules(db_session, PartyRef(INDIVIDUAL, book["person"]), as_of=AS_OF, now=NOW)
    # unpaid past due; 31 days > 30; two loans; score 600 -> 540 is -60
    assert tags == ["EVER_M2", "OVERDUE_NOW", "REPEAT_BORROWER", "SCORE_FALLING"]
    stored = tags_of(db_session, PartyRef(INDIVIDUAL, book["person"]))
    assert {(t.source, t.set_by) for t in stored} == {(RULE, "customer_tags@2026-01-01")}
    assert apply_tag_rules(db_session, PartyRef(ENTERPRISE, book["enterprise"]), as_of=AS_OF, now=NOW) == []


def test_rule_versions_are_dated_and_checked():
    versions = parse_rule_sets({"versions": [
        {"effective_from": "2027-01-01", "source": "v2", "rules": [
            {"tag": "BIG", "condition": "exposure > 1000", "label": {"zh": "大", "en": "Big"}}]},
        {"effective_from": "2026-01-01", "source": "v1", "rules": []}]})
    assert rule_set_on(date(2025, 12, 31), versions) is None
    assert rule_set_on(date(2026, 6, 1), versions).source == "v1"
    assert rule_set_on(date(2027, 1, 1), versions).source == "v2"
    with pytest.raises(InvalidArgumentError) as refused:
        parse_rule_sets({"versions": [{"effective_from": "2026-01-01", "source": "x", "rules": [
            {"tag": "X", "condition": "income > 1", "label": {}}]}]})
    assert refused.value.field == "versions.0.rules.0"
    assert shipped_rule_sets()[0].effective_from == date(2026, 1, 1)


def test_loan_state_names_used_by_the_profile_exist():
    assert {"active", "overdue", "paid_off"} <= set(LOAN_STATES.states)


def test_the_retag_command_runs_the_rules_over_every_customer(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/retag.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    people = book.__wrapped__(session)
    session.commit()
    result = CliRunner().invoke(main, ["customers", "retag", "--as-of", "2026-06-10", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"as_of": "2026-06-10", "customers": 2, "tags": {
        "EVER_M2": 1, "OVERDUE_NOW": 1, "REPEAT_BORROWER": 1, "SCORE_FALLING": 1}}
    assert [t.code for t in tags_of(session, PartyRef(INDIVIDUAL, people["person"]))] == [
        "EVER_M2", "OVERDUE_NOW", "REPEAT_BORROWER", "SCORE_FALLING"]
    session.rollback()
    bad = CliRunner().invoke(main, ["customers", "retag", "--as-of", "2026-02-30"])
    assert bad.exit_code == 2 and "--as-of" in bad.output
    session.close()
    engine.dispose()


def test_celery_beat_runs_the_tag_rules_daily_and_the_task_tags_the_book(tmp_path):
    from loanfactory.app import create_app
    from loanfactory.database import get_db
    from loanfactory.tasks.customers import TASK, retag_task

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/beat.sqlite3", "TESTING": True,
                      "API_BUSINESS_DATE": "2026-06-10"})
    assert app.extensions["celery"].conf.beat_schedule["loanfactory-retag-customers"] == {
        "task": TASK, "schedule": 86_400.0}
    with app.app_context():
        session = make_session_factory(get_db(app).engine)()
        book.__wrapped__(session)
        session.commit()
        session.close()
        assert retag_task.delay().get() == {"customers": 2, "tags": {
            "EVER_M2": 1, "OVERDUE_NOW": 1, "REPEAT_BORROWER": 1, "SCORE_FALLING": 1}}
    off = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/off.sqlite3", "TESTING": True,
                      "CUSTOMER_RETAG_SECONDS": 0})
    assert "loanfactory-retag-customers" not in off.extensions["celery"].conf.beat_schedule
    for made in (app, off):
        get_db(made).engine.dispose()
