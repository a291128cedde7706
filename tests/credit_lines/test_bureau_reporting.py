"""A revolving line reported to the bureau: the line as R1, each drawdown's loan as an R4 sub-account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.credit_lines.bureau import grid_symbol, line_account_events, report_line
from core.errors import InvalidArgumentError
from loanfactory.plugins_host import get_plugins
from tests.credit_lines.conftest import TODAY, draw, grant, prepay_in_full, session_of, settle


def test_the_grid_symbol_is_the_30_day_band_of_days_past_due():
    assert [grid_symbol(d) for d in (0, 1, 30, 31, 60, 61, 180, 181, 900)] == [
        "N", "1", "1", "2", "2", "3", "6", "7", "7"]


def test_a_line_and_its_loans_are_reported_open_monthly_and_closed(lines):
    line_id = grant(lines, "20000.00")
    daily = draw(lines, line_id, "3000.00", "daily_interest", 30)
    draw(lines, line_id, "5000.00", "equal_installment", 6)
    settle(lines)
    with lines.app_context():
        session = session_of(lines)
        opened = line_account_events(session, line_id, TODAY)
        assert [(e.account_type, e.kind, e.credit_amount, e.balance, e.status_symbol) for e in opened] == [
            ("R1", "open", Decimal("20000.00"), Decimal("8000.00"), "N"),
            ("R4", "open", Decimal("3000.00"), Decimal("3000.00"), "N"),
            ("R4", "open", Decimal("5000.00"), Decimal("5000.00"), "N")]
        assert opened[2].remaining_periods == 6 and opened[1].remaining_periods == 1
        acks = report_line(session, get_plugins(lines), line_id, TODAY)
        again = report_line(session, get_plugins(lines), line_id, TODAY)
        session.commit()
        assert all(a.accepted for a in acks) and [a.reference for a in again] == [a.reference for a in acks]
    # the daily-interest drawdown is prepaid the next day: its R4 account closes, the line's balance falls
    prepay_in_full(lines, daily.application.id, date(2026, 3, 3))
    with lines.app_context():
        session = session_of(lines)
        later = line_account_events(session, line_id, date(2026, 3, 31))
        assert [(e.account_type, e.kind, e.balance, e.status_symbol) for e in later] == [
            ("R1", "monthly", Decimal("5000.00"), "N"), ("R4", "close", Decimal(0), "C"),
            ("R4", "monthly", Decimal("5000.00"), "N")]
        assert all(a.accepted for a in report_line(session, get_plugins(lines), line_id, date(2026, 3, 31)))


def test_a_non_revolving_line_is_not_an_r1_account(non_revolving):
    line_id = grant(non_revolving, "20000.00")
    with non_revolving.app_context(), pytest.raises(InvalidArgumentError, match="R1"):
        line_account_events(session_of(non_revolving), line_id, TODAY)


def test_the_bureau_command_reports_every_revolving_line(lines, monkeypatch):
    from click.testing import CliRunner

    from loanfactory.cli import main
    from loanfactory.database import get_db

    grant(lines, "20000.00")
    monkeypatch.setenv("DATABASE_URL", str(get_db(lines).engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("LOANFACTORY_PLUGINS_EXTRA", '["plugins.sandbox_bank", "plugins.local_esign"]')
    result = CliRunner().invoke(main, ["credit-lines", "bureau", "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 line(s) reported for 2026-03-02: 1 account event(s) acknowledged"
