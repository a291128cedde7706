"""``loanfactory ledger chart`` and ``trial-balance --by``: loading a version, the readings by GL code."""

from __future__ import annotations

import json
from decimal import Decimal

from books.factories import three_loans
from click.testing import CliRunner

from core.finance.chart import shipped_chart
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
