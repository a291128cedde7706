"""Nested limits and a line's life, on SQLite and PostgreSQL: grant, occupy, release, freeze, adjust, expire."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.applications.models import Application
from core.credit_lines import lifecycle
from core.credit_lines.limits import LimitExceededError
from core.credit_lines.models import CreditLine, CustomerLimit, Drawdown, LineEvent
from core.credit_lines.policy import Cap
from core.errors import InvalidArgumentError, WrongStateError
from core.origination.errors import NotFoundError, RequestProblems
from core.origination.published import published_offer
from core.origination.requests import parse_application
from core.states import StateTransition
from tests.api.conftest import application_body
from tests.credit_lines.conftest import (
    CODE,
    NOW,
    TODAY,
    draw,
    grant,
    line_of,
    prepay_in_full,
    session_of,
    settle,
    used,
)


def change(app, line_id, do):
    """Run ``do(session, line, offer)`` on the locked line and commit."""
    with app.app_context():
        session = session_of(app)
        line = lifecycle.line_for_update(session, line_id)
        result = do(session, line, published_offer(session, CODE))
        session.commit()
        return result


def count(app, model):
    with app.app_context():
        return session_of(app).scalar(select(func.count()).select_from(model))


def test_a_granted_line_is_priced_by_band_dated_and_audited(lines):
    line_id = grant(lines, "20000.00")
    line = line_of(lines, line_id)
    # the good applicant scores 570: the band 551-572 prices the line at 10.8% for its whole life
    assert (line.state, line.limit, line.annual_rate, line.revolving) == ("active", Decimal("20000.00"),
                                                                          Decimal("0.1080"), True)
    # twelve months from 2 March 2026: the last day to draw is 1 March 2027
    assert (line.granted_on, line.expires_on) == (date(2026, 3, 2), date(2027, 3, 1))
    with lines.app_context():
        session = session_of(lines)
        assert session.get(Application, line.application_id).state == "line_granted"
        assert session.get(CustomerLimit, line.customer_id).total_limit == Decimal("20000.00")
        assert [e.event for e in session.scalars(select(LineEvent).where(LineEvent.line_id == line_id))] == ["granted"]
        assert session.scalars(select(StateTransition.to_state).where(
            StateTransition.entity_type == "credit_line", StateTransition.entity_id == line_id)).all() == ["active"]
        with pytest.raises(RequestProblems) as refused:
            parse_application(published_offer(session, CODE), application_body("5000.00", 3), NOW)
        assert refused.value.problems[0][0] == "product"


def test_a_drawdown_larger_than_what_is_left_is_refused_whole(lines):
    line_id = grant(lines, "20000.00")
    first = draw(lines, line_id, "5000.00")
    assert [(level.name, level.used) for level in first.levels] == [
        ("policy", 0), ("customer", 0), ("line", 0)]
    draw(lines, line_id, "8000.00", "interest_only", 6)
    assert used(lines, line_id) == Decimal("13000.00")
    before = (count(lines, Drawdown), count(lines, Application))
    with pytest.raises(LimitExceededError) as refused:
        draw(lines, line_id, "7100.00")
    assert (refused.value.level, refused.value.available, refused.value.field) == ("line", Decimal("7000.00"),
                                                                                    "amount")
    assert (count(lines, Drawdown), count(lines, Application)) == before
    draw(lines, line_id, "7000.00", "equal_principal", 12)
    assert used(lines, line_id) == Decimal("20000.00")


def test_the_customer_total_and_the_policy_cap_bound_all_lines_together(lines, monkeypatch):
    first = grant(lines, "20000.00")
    second = grant(lines, "10000.00")
    draw(lines, first, "15000.00")
    with pytest.raises(LimitExceededError) as refused:
        draw(lines, second, "6000.00")
    # the customer's total (20,000, the larger line) has 5,000 left although the second line has 10,000
    assert (refused.value.level, refused.value.available) == ("customer", Decimal("5000.00"))
    customer_id = line_of(lines, first).customer_id
    with lines.app_context():
        session = session_of(lines)
        lifecycle.set_customer_total(session, customer_id, "30000.00", actor="risk", reason="review", on=TODAY)
        session.commit()
    draw(lines, second, "6000.00")
    caps = (Cap("per_borrower_balance", date(2025, 1, 1), Decimal("200000.00"), "rule"),
            Cap("per_borrower_balance", date(2026, 3, 1), Decimal("22000.00"), "a lower ceiling from 1 March"))
    monkeypatch.setattr("core.credit_lines.policy.shipped_caps", lambda: caps)
    with pytest.raises(LimitExceededError) as refused:
        draw(lines, second, "1100.00")
    assert (refused.value.level, refused.value.available) == ("policy", Decimal("1000.00"))
    draw(lines, second, "1000.00", today=TODAY)
    with lines.app_context(), pytest.raises(InvalidArgumentError, match="total_limit"):
        lifecycle.set_customer_total(session_of(lines), customer_id, "25000.00", actor="risk", reason="x",
                                     on=TODAY)


def test_a_channel_draws_within_its_sub_limit_and_a_stranger_finds_no_line(lines):
    line_id = grant(lines, "20000.00")
    change(lines, line_id, lambda s, line, offer: lifecycle.set_channel_sub_limit(
        s, line, "shop", "2000.00", actor="ops", reason="partner shop"))
    draw(lines, line_id, "1500.00", channel="shop")
    with pytest.raises(LimitExceededError) as refused:
        draw(lines, line_id, "600.00", channel="shop")
    assert (refused.value.level, refused.value.available) == ("channel", Decimal("500.00"))
    draw(lines, line_id, "600.00")  # the granting channel has no sub-limit
    with pytest.raises(NotFoundError):
        draw(lines, line_id, "500.00", channel="stranger")


def test_repaid_principal_comes_back_to_a_revolving_line(lines):
    line_id = grant(lines, "20000.00")
    drawn = draw(lines, line_id, "3000.00", "daily_interest", 30)
    assert settle(lines) == 1
    assert used(lines, line_id) == Decimal("3000.00")
    prepay_in_full(lines, drawn.application.id, date(2026, 3, 3))
    assert used(lines, line_id) == 0
    draw(lines, line_id, "20000.00", today=date(2026, 3, 3))


def test_a_non_revolving_line_keeps_what_was_drawn_after_repayment(non_revolving):
    line_id = grant(non_revolving, "20000.00")
    drawn = draw(non_revolving, line_id, "3000.00", "daily_interest", 30)
    settle(non_revolving)
    prepay_in_full(non_revolving, drawn.application.id, date(2026, 3, 3))
    assert used(non_revolving, line_id) == Decimal("3000.00")
    with pytest.raises(LimitExceededError):
        draw(non_revolving, line_id, "17100.00", today=date(2026, 3, 3))


def test_freeze_adjust_renew_expire_and_close_are_each_audited(lines):
    line_id = grant(lines, "20000.00")
    draw(lines, line_id, "5000.00")
    change(lines, line_id, lambda s, line, o: lifecycle.freeze(s, line, actor="risk", reason="early warning"))
    with pytest.raises(WrongStateError, match="frozen"):
        draw(lines, line_id, "500.00")
    change(lines, line_id, lambda s, line, o: lifecycle.unfreeze(s, line, actor="risk", reason="cleared"))
    change(lines, line_id, lambda s, line, o: lifecycle.adjust(s, line, o, "4000.00", actor="risk",
                                                                reason="utilisation jump"))
    with pytest.raises(LimitExceededError) as refused:
        draw(lines, line_id, "500.00")
    assert refused.value.available == 0  # 5,000 drawn over a limit of 4,000
    with pytest.raises(InvalidArgumentError, match="limit"):
        change(lines, line_id, lambda s, line, o: lifecycle.adjust(s, line, o, "100100.00", actor="risk",
                                                                    reason="too much"))
    change(lines, line_id, lambda s, line, o: lifecycle.adjust(s, line, o, "30000.00", actor="risk",
                                                                reason="review"))
    change(lines, line_id, lambda s, line, o: lifecycle.renew(s, line, o, actor="risk", reason="renewal review"))
    assert line_of(lines, line_id).expires_on == date(2028, 2, 29)
    with lines.app_context():
        session = session_of(lines)
        assert lifecycle.expire_lines(session, date(2028, 2, 29), actor="eod") == []
        assert [line.id for line in lifecycle.expire_lines(session, date(2028, 3, 1), actor="eod")] == [line_id]
        session.commit()
    with pytest.raises(WrongStateError, match="expired"):
        draw(lines, line_id, "500.00", today=date(2028, 3, 1))
    with pytest.raises(WrongStateError, match="still drawn"):
        change(lines, line_id, lambda s, line, o: lifecycle.close(s, line, actor="ops", reason="customer asked"))
    with lines.app_context():
        events = session_of(lines).scalars(select(LineEvent).where(LineEvent.line_id == line_id)
                                           .order_by(LineEvent.id)).all()
        assert [(e.event, e.to_state, e.limit_after) for e in events] == [
            ("granted", "active", Decimal("20000.00")), ("drawn", "active", Decimal("20000.00")),
            ("frozen", "frozen", Decimal("20000.00")), ("unfrozen", "active", Decimal("20000.00")),
            ("adjusted", "active", Decimal("4000.00")), ("adjusted", "active", Decimal("30000.00")),
            ("renewed", "active", Decimal("30000.00")), ("expired", "expired", Decimal("30000.00"))]
        assert [e.actor for e in events][2:5] == ["risk", "risk", "risk"]
        assert session_of(lines).get(CreditLine, line_id).state == "expired"
