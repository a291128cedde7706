"""Early warning: rules as versioned data checked with pointers, signals from the books, actions, handling."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.backoffice.audit import events_for
from core.credit_lines.limits import LimitExceededError
from core.credit_lines.models import LineEvent
from core.early_warning.models import EarlyWarning, RuleSetVersion
from core.early_warning.rules import InvalidRulesError, read_rule_set
from core.early_warning.scan import coverage, handle_warning, scan
from core.early_warning.versions import SHIPPED_RULES, publish_rule_set, rules_in_force
from core.eod.run import run_eod
from core.errors import WrongStateError
from core.products.problems import load_json
from tests.credit_lines.conftest import TODAY, draw, grant, line_of, session_of, settle

FREEZE_ON_OVERDUE = {"rules": [
    {"code": "OVERDUE", "name": {"zh": "逾期", "en": "Overdue"}, "severity": "high", "signal": "days_past_due",
     "min_days_past_due": 1, "action": "freeze"}]}


def test_the_shipped_rules_read_and_each_fault_is_named_at_its_pointer():
    assert [r.code for r in read_rule_set(load_json(SHIPPED_RULES.read_text(encoding="utf-8")))] == [
        "OVERDUE_ELSEWHERE", "OVERDUE_TECHNICAL", "UTILISATION_JUMP"]
    bad = {"rules": [
        {"code": "JUMP", "name": {"zh": "跳", "en": "Jump"}, "severity": "high", "signal": "utilisation_jump",
         "window_days": 0, "action": "reduce_limit", "reduce_to": "1.5"},
        {"code": "JUMP", "name": {"zh": "", "en": "x"}, "severity": "urgent", "signal": "days_past_due",
         "min_days_past_due": 3, "action": "flag", "min_share": "0.5"},
        {"code": "lower", "name": {"zh": "甲", "en": "A"}, "severity": "low", "signal": "bureau_hits",
         "action": "call"}], "owner": "risk"}
    with pytest.raises(InvalidRulesError) as refused:
        read_rule_set(bad)
    assert sorted((p.pointer, p.code) for p in refused.value.problems) == sorted([
        ("/owner", "rules.unknown_field"),
        ("/rules/0/window_days", "rules.threshold"), ("/rules/0/min_share", "rules.required"),
        ("/rules/0/reduce_to", "rules.threshold"),
        ("/rules/1/min_share", "rules.unknown_field"), ("/rules/1/name", "rules.name"),
        ("/rules/1/severity", "rules.enum"),
        ("/rules/2/code", "rules.code"), ("/rules/2/signal", "rules.enum"), ("/rules/2/action", "rules.enum")])


def test_rule_sets_are_numbered_versions_and_a_bad_one_is_not_stored(lines):
    with lines.app_context():
        session = session_of(lines)
        assert rules_in_force(session).version == 1  # the shipped rules, published on first use
        assert publish_rule_set(session, FREEZE_ON_OVERDUE, actor="risk:wang").version == 2
        with pytest.raises(InvalidRulesError):
            publish_rule_set(session, {"rules": [{"code": "X1"}]}, actor="risk:wang")
        session.commit()
        assert [r.code for r in rules_in_force(session).rules] == ["OVERDUE"]
        assert session.scalars(select(RuleSetVersion.version).order_by(RuleSetVersion.version)).all() == [1, 2]
        assert [e.actor for e in events_for(session, "early_warning_rules", 2)] == ["risk:wang"]


def test_a_utilisation_jump_halves_the_limit_once(lines):
    line_id = grant(lines, "20000.00")
    draw(lines, line_id, "9000.00")
    with lines.app_context():
        session = session_of(lines)
        assert scan(session, TODAY) == []  # 9,000 of 20,000 drawn this week: 45%, under 80%
        session.commit()
    draw(lines, line_id, "7000.00", "interest_only", 6)
    with lines.app_context():
        session = session_of(lines)
        (warning,) = scan(session, TODAY)
        assert (warning.rule_code, warning.value, warning.action, warning.rule_set_version) == (
            "UTILISATION_JUMP", "0.8000", "reduce_limit", 1)
        assert scan(session, TODAY) == []  # still open: nothing new
        session.commit()
    assert line_of(lines, line_id).limit == Decimal("10000.00")
    with lines.app_context():
        event = session_of(lines).scalars(select(LineEvent).where(LineEvent.event == "adjusted")).one()
        assert (event.actor, event.limit_before, event.limit_after) == ("system:early_warning",
                                                                         Decimal("20000.00"), Decimal("10000.00"))
        assert "UTILISATION_JUMP" in event.reason
    with pytest.raises(LimitExceededError):
        draw(lines, line_id, "500.00")  # 16,000 drawn over a limit of 10,000


def test_an_overdue_drawdown_freezes_the_line_and_the_warning_is_handled(lines):
    line_id = grant(lines, "20000.00")
    with lines.app_context():
        session = session_of(lines)
        publish_rule_set(session, FREEZE_ON_OVERDUE, actor="risk:wang")
        session.commit()
    draw(lines, line_id, "3000.00")
    settle(lines)
    # due 2 April and unpaid: at the end of 3 April the loan is one day past due (days count from the due date)
    with lines.app_context():
        session = session_of(lines)
        run_eod(session, date(2026, 4, 2))
        assert scan(session, date(2026, 4, 2)) == []
        run_eod(session, date(2026, 4, 3))
        (warning,) = scan(session, date(2026, 4, 3))
        session.commit()
        assert (warning.rule_code, warning.value, warning.action) == ("OVERDUE", "1", "freeze")
    assert line_of(lines, line_id).state == "frozen"
    with pytest.raises(WrongStateError, match="frozen"):
        draw(lines, line_id, "500.00", today=date(2026, 4, 3))
    with lines.app_context():
        session = session_of(lines)
        # the customer's installment fell due unpaid on 2 April, the warning came on 3 April: not in time
        assert (coverage(session).delinquent_lines, coverage(session).warned_in_time) == (1, 0)
        handled = handle_warning(session, warning.id, actor="risk:li", outcome="handled", note="called, will pay",
                                 now=datetime(2026, 4, 6, 12))
        session.commit()
        assert (handled.state, handled.handled_by) == ("handled", "risk:li")
        assert [e.action for e in events_for(session, "early_warning", warning.id)] == ["early_warning.handled"]
        with pytest.raises(WrongStateError):
            handle_warning(session, warning.id, actor="risk:li", outcome="dismissed", note="again")
        assert session.get(EarlyWarning, warning.id).note == "called, will pay"


def test_coverage_counts_the_delinquent_lines_warned_before_they_fell_due(lines):
    from tests.api.conftest import id_number

    warned = grant(lines, "20000.00")
    unwarned = grant(lines, "20000.00", id_no=id_number("19880202", 7))
    draw(lines, warned, "17000.00")  # 85% in a week: the utilisation rule warns on the day
    draw(lines, unwarned, "3000.00")
    settle(lines)
    with lines.app_context():
        session = session_of(lines)
        assert [w.line_id for w in scan(session, TODAY)] == [warned]
        run_eod(session, date(2026, 4, 6))
        session.commit()
        result = coverage(session)
        assert (result.delinquent_lines, result.warned_in_time, result.ratio) == (2, 1, Decimal("0.5000"))
