"""``loanfactory ledger chart`` and ``trial-balance --by``: loading a version, the readings by GL code."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from books.factories import three_loans
from click.testing import CliRunner
from servicing.helpers import book, seed_calendar
from sqlalchemy import func, select

from core.backoffice.audit import ChangeRequest
from core.backoffice.users import create_user
from core.eod import run_eod
from core.finance.chart import shipped_chart
from core.ledger.periods import closed_period_of
from loanfactory.cli import main


def ledger(*args: str):
    return CliRunner().invoke(main, ["ledger", *args])


def test_a_chart_with_problems_is_refused_naming_each_and_a_sound_one_is_loaded(db_session, db_url, tmp_path):
    bad = shipped_chart().to_json()
    bad["version"] = 2
    del bad["kernel_accounts"]["1303"]
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = ledger("chart", "load", str(path), "--actor", "finance-li", "--database-url", db_url)
    assert refused.exit_code == 1 and "/kernel_accounts/1303: [chart.unmapped_kernel_account]" in refused.output
    bad["kernel_accounts"]["1303"] = "130102"
    path.write_text(json.dumps(bad), encoding="utf-8")
    loaded = ledger("chart", "load", str(path), "--actor", "finance-li", "--database-url", db_url)
    assert loaded.exit_code == 0, loaded.output
    shown = json.loads(ledger("chart", "show", "--json", "--database-url", db_url).output)
    assert (shown["version"], shown["kernel_accounts"]["1303"]) == (2, "130102")


def test_the_trial_balance_by_gl_code_maps_the_kernels_accounts_and_balances(db_session, db_url):
    three_loans(db_session)
    db_session.commit()
    kernel = json.loads(ledger("trial-balance", "--json", "--database-url", db_url).output)
    by_gl = json.loads(ledger("trial-balance", "--by", "gl", "--json", "--database-url", db_url).output)
    assert by_gl["balanced"] and by_gl["total_debit"] == kernel["total_debit"]
    defaults = shipped_chart().kernel_accounts
    expected: dict[str, Decimal] = {}
    for row in kernel["accounts"]:   # the loans of these books have no product version: the chart's defaults
        code = defaults.get(row["account"]) or defaults[row["account"].partition(".")[0]]
        expected[code] = expected.get(code, Decimal(0)) + Decimal(row["debit"]) - Decimal(row["credit"])
    got = {row["account"]: Decimal(row["debit"]) - Decimal(row["credit"]) for row in by_gl["accounts"]}
    assert got == expected
    text = ledger("trial-balance", "--by", "product", "--database-url", db_url)
    assert text.exit_code == 0 and "balanced" in text.output


def test_the_provisions_command_shows_both_methods_and_posts_the_change(db_session, db_url):
    three_loans(db_session)
    db_session.commit()
    shown = json.loads(CliRunner().invoke(main, ["finance", "provisions", "--on", "2026-06-30", "--json",
                                                 "--database-url", db_url]).output)
    assert {shown["five_tier"]["method"], shown["ecl"]["method"]} == {"five_tier", "ecl"}
    assert shown["posted"] is None and Decimal(shown["held"]) == 0
    posted = json.loads(CliRunner().invoke(main, ["finance", "provisions", "--on", "2026-06-30", "--post", "--json",
                                                  "--database-url", db_url]).output)
    assert Decimal(posted["posted"]) == Decimal(shown["five_tier"]["total"])
    again = json.loads(CliRunner().invoke(main, ["finance", "provisions", "--on", "2026-06-30", "--post", "--json",
                                                 "--database-url", db_url]).output)
    assert Decimal(again["posted"]) == 0 and Decimal(again["held"]) == Decimal(shown["five_tier"]["total"])
    ecl = json.loads(CliRunner().invoke(main, ["finance", "provisions", "--on", "2026-06-30", "--post", "--method",
                                               "ecl", "--json", "--database-url", db_url]).output)
    assert ecl["method"] == "ecl"
    assert Decimal(ecl["posted"]) == Decimal(shown["ecl"]["total"]) - Decimal(shown["five_tier"]["total"])


def test_the_month_end_commands_write_vouchers_statements_and_reconcile(db_session, db_url, tmp_path):
    seed_calendar(db_session)
    book(db_session, start=date(2026, 1, 5), key="cli-loan")
    run_eod(db_session, date(2026, 1, 31))
    db_session.commit()
    layout = str(Path(__file__).resolve().parents[2] / "product_configs" / "vouchers" / "yonyou.json")
    for file_format in ("csv", "xlsx"):
        out = tmp_path / f"v.{file_format}"
        written = CliRunner().invoke(main, ["finance", "vouchers", "--month", "2026-01", "--layout", layout,
                                            "--format", file_format, "--output", str(out), "--database-url", db_url])
        assert written.exit_code == 0, written.output
        assert out.stat().st_size > 0
    statements = CliRunner().invoke(main, ["finance", "statements", "--month", "2026-01", "--json",
                                           "--database-url", db_url])
    assert statements.exit_code == 0 and json.loads(statements.output)["balance_sheet"]["balanced"]
    reconciled = CliRunner().invoke(main, ["finance", "reconcile", "--database-url", db_url])
    assert reconciled.exit_code == 0 and "reconciles" in reconciled.output
    bad_month = CliRunner().invoke(main, ["finance", "statements", "--month", "2026-13", "--database-url", db_url])
    assert bad_month.exit_code == 2 and "month" in bad_month.output


def test_a_month_is_closed_from_the_command_line_by_two_finance_users(db_session, db_url):
    seed_calendar(db_session)
    for name in ("wang", "zhao"):
        create_user(db_session, username=name, password="long enough pw", roles=["finance"])
    book(db_session, start=date(2026, 1, 5), key="cli-close")
    run_eod(db_session, date(2026, 1, 31))
    db_session.commit()

    def finance(*args: str):
        return CliRunner().invoke(main, ["finance", "period", *args, "--database-url", db_url])

    password = ("--password", "long enough pw")
    impostor = finance("request-close", "--month", "2026-01", "--user", "wang", "--password", "a guess")
    assert impostor.exit_code == 2 and "--user" in impostor.output
    assert db_session.scalar(select(func.count()).select_from(ChangeRequest)) == 0
    db_session.rollback()  # SQLite: let the commands below take the write lock
    filed = finance("request-close", "--month", "2026-01", "--user", "wang", *password)
    assert filed.exit_code == 0, filed.output
    request_id = filed.output.split()[1].rstrip(":")
    own = finance("decide", request_id, "--user", "wang", *password, "--approve")
    assert own.exit_code == 2 and "wang" in own.output
    approved = finance("decide", request_id, "--user", "zhao", *password, "--approve")
    assert approved.exit_code == 0 and "approved" in approved.output
    db_session.expire_all()
    assert closed_period_of(db_session, date(2026, 1, 15)) is not None
