"""The sandbox bureau: deterministic realistic reports, consent first, reported events kept once."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sql_events
from sqlalchemy import func, select

from core.plugins.manager import PluginCall, PluginManager, PluginSettings
from core.plugins.types import (
    BureauAccountEvent,
    BureauConsent,
    BureauInquiry,
    BureauQuery,
    ConsentRequiredError,
    NoSessionError,
    PluginFailure,
)
from plugins.sandbox_bureau.generator import generate_report
from plugins.sandbox_bureau.models import SandboxBureauQuery, SandboxBureauSubmission

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ID = "110105199001011234"
CONSENT = BureauConsent(granted_at=NOW - timedelta(minutes=3), purpose="贷款审批", channel="app", reference="C-9")


def bureau(**config) -> PluginManager:
    manager = PluginManager(PluginSettings(load_entrypoints=False, plugin_config={"sandbox_bureau": config},
                                           default_timeout=5), clock=lambda: NOW)
    manager.load(("plugins.sandbox_bureau",))
    return manager


def query(manager, session, consent=CONSENT, id_number=ID, **kw):
    return manager.call("sandbox_bureau", "bureau_query", session=session,
                        query=BureauQuery(id_number=id_number, name="王小明", consent=consent), **kw)


def event(kind="open", balance="20000", **changes) -> BureauAccountEvent:
    fields = dict(kind=kind, account_id="LF-1", id_number=ID, name="王小明", report_date=date(2026, 1, 15),
                  account_type="D1", credit_amount=Decimal(20000), balance=Decimal(balance), remaining_periods=12)
    return BureauAccountEvent(**{**fields, **changes})


def test_the_same_id_on_the_same_day_gets_the_same_report_and_another_id_another():
    assert generate_report(ID, date(2026, 1, 15)) == generate_report(ID, date(2026, 1, 15))
    assert generate_report(ID, date(2026, 1, 15)).report_id != generate_report("11010519900101123X",
                                                                                date(2026, 1, 15)).report_id


def test_two_hundred_reports_keep_the_grid_rules():
    """'/' only before opening, a closing symbol (C, or G/D/Z for an abnormal end) to the end of the grid,
    status 3 for closed with no balance, status 4
    exactly when the grid ends in bad debt, an overdue amount exactly when the account is overdue."""
    statuses = set()
    for n in range(200):
        for acc in generate_report(f"1101051990{n:08d}", date(2026, 1, 15)).accounts:
            grid = acc.grid
            assert len(grid) == 24 and set(grid) <= set("N1234567CGDZBM*#/")
            assert grid.lstrip("/").count("/") == 0
            ended = next((i for i, symbol in enumerate(grid) if symbol in "CGDZ"), None)
            if ended is not None:
                assert len(set(grid[ended:])) == 1 and acc.status == "3" and acc.balance == 0
            assert (acc.status == "4") == (grid[-1] == "B")
            assert (acc.overdue_amount > 0) == (acc.status in ("2", "4"))
            assert acc.opened_on <= date(2026, 1, 15)
            statuses.add(acc.status)
    assert statuses == {"1", "2", "3", "4"}


def test_inquiries_in_the_last_1_3_6_months_count_loan_and_card_queries_only():
    for n in range(50):
        report = generate_report(f"4403051985{n:08d}", date(2026, 1, 15))
        for months, cutoff in ((1, date(2025, 12, 15)), (3, date(2025, 10, 15)), (6, date(2025, 7, 15))):
            by_hand = sum(1 for q in report.inquiries if q.queried_on > cutoff and q.reason in ("02", "03"))
            assert report.inquiries_within(months) == by_hand


@pytest.mark.parametrize(("consent", "field"), [
    (None, "consent"),
    (BureauConsent(granted_at=NOW + timedelta(hours=1), purpose="贷款审批", channel="app", reference="C"),
     "consent.granted_at"),
    (BureauConsent(granted_at=NOW, purpose=" ", channel="app", reference="C"), "consent.purpose"),
])
def test_no_report_without_a_valid_consent(sqlite_session, consent, field):
    with pytest.raises(PluginFailure) as failure:
        query(bureau(), sqlite_session, consent=consent)
    assert failure.value.outcome == "refused" and not failure.value.retryable
    assert isinstance(failure.value.cause, ConsentRequiredError) and failure.value.cause.field == field
    assert sqlite_session.scalar(select(func.count()).select_from(SandboxBureauQuery)) == 0


def test_a_query_is_logged_with_its_consent_and_without_the_id_number(db_session):
    sent: list[str] = []
    sql_events.listen(db_session.get_bind(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: sent.append(statement.split()[0]))
    report = query(bureau(), db_session, subject="application:5")
    # PostgreSQL reads the earlier queries and logs this one in one statement (in the call's savepoint)
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    assert [word for word in sent if word != "BEGIN"] == (["SAVEPOINT", "WITH", "RELEASE", "INSERT"] if postgresql
                    else ["SAVEPOINT", "SELECT", "INSERT", "RELEASE", "INSERT"])
    row = db_session.scalars(select(SandboxBureauQuery)).one()
    assert row.subject_hash == hashlib.sha256(ID.encode()).hexdigest() and row.report_id == report.report_id
    assert (row.consent_reference, row.consent_purpose, row.reason) == ("C-9", "贷款审批", "02")
    assert report.as_of == date(2026, 1, 15)


def test_reported_events_are_stored_once_each(db_session):
    manager = bureau()
    first = manager.call("sandbox_bureau", "bureau_report_account", session=db_session, event=event())
    again = manager.call("sandbox_bureau", "bureau_report_account", session=db_session, event=event())
    monthly = manager.call("sandbox_bureau", "bureau_report_account", session=db_session,
                           event=event("monthly", "18500.00", report_date=date(2026, 2, 15), status_symbol="N",
                                       due_this_period=Decimal("1833.60"), paid_this_period=Decimal("1833.60")))
    closed = manager.call("sandbox_bureau", "bureau_report_account", session=db_session,
                          event=event("close", "0", report_date=date(2027, 1, 15), status_symbol="C"))
    assert again.reference == first.reference and "duplicate" in again.message
    rows = db_session.scalars(select(SandboxBureauSubmission).order_by(SandboxBureauSubmission.id)).all()
    assert [r.kind for r in rows] == ["open", "monthly", "close"]
    assert [r.reference for r in rows] == [first.reference, monthly.reference, closed.reference]
    assert rows[1].balance == Decimal("18500.00") and rows[1].payload["paid_this_period"] == "1833.60"
    assert "id_number" not in rows[0].payload and "name" not in rows[0].payload


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "close"}, "balance"), ({"status_symbol": "X"}, "status_symbol"), ({"five_tier": 6}, "five_tier"),
    ({"account_type": "C1"}, "account_type")])
def test_a_malformed_event_is_refused_and_nothing_stored(sqlite_session, changes, field):
    with pytest.raises(PluginFailure) as failure:
        bureau().call("sandbox_bureau", "bureau_report_account", session=sqlite_session, event=event(**changes))
    assert failure.value.outcome == "refused" and failure.value.cause.field == field
    assert sqlite_session.scalar(select(func.count()).select_from(SandboxBureauSubmission)) == 0


def test_reporting_needs_the_callers_session():
    with pytest.raises(PluginFailure) as failure:
        bureau().call("sandbox_bureau", "bureau_report_account", event=event())
    assert isinstance(failure.value.cause, NoSessionError)


def test_an_injected_outage_for_one_subject_fails_retryably_and_is_recorded(db_session):
    with pytest.raises(PluginFailure) as failure:
        query(bureau(failing_ids=[ID]), db_session)
    assert failure.value.outcome == "error" and failure.value.retryable
    db_session.commit()
    call = db_session.scalars(select(PluginCall)).one()
    assert call.outcome == "error" and "injected outage" in call.error
    assert query(bureau(failing_ids=[ID]), db_session, id_number="110105199001010000").report_id


def test_our_query_shows_up_among_the_inquiries_from_the_next_day_on(db_session):
    first = query(bureau(institution="示例小贷"), db_session)
    assert query(bureau(institution="示例小贷"), db_session) == first  # the same all day
    next_day = PluginManager(PluginSettings(load_entrypoints=False), clock=lambda: NOW + timedelta(days=1))
    next_day.load(("plugins.sandbox_bureau",))
    later = query(next_day, db_session)
    ours = [q for q in later.inquiries if q.institution == "示例小贷"]
    assert [(q.queried_on, q.reason) for q in ours] == [(date(2026, 1, 15), "02")] * 2
    generated = generate_report(ID, date(2026, 1, 16))
    assert later.inquiries_within(1) == generated.inquiries_within(1) + 2


def test_inquiry_windows_end_on_the_same_day_of_the_month_or_its_last_day():
    """As of 2026-03-31, "the last month" starts after 2026-02-28 and "the last 6 months" after 2025-09-30."""
    report = dataclasses.replace(generate_report(ID, date(2026, 3, 31)), as_of=date(2026, 3, 31), inquiries=(
        BureauInquiry(date(2026, 2, 28), "甲", "02"), BureauInquiry(date(2026, 3, 1), "乙", "02"),
        BureauInquiry(date(2025, 9, 30), "丙", "03"), BureauInquiry(date(2025, 10, 1), "丁", "03"),
        BureauInquiry(date(2026, 3, 20), "戊", "01")))
    assert (report.inquiries_within(1), report.inquiries_within(6)) == (1, 3)
