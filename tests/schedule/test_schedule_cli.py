"""``loanfactory schedule``: the table, the JSON shape, and one-line refusals with exit status 2."""

import json

import pytest
from click.testing import CliRunner

from loanfactory.cli import main

BASE = ["schedule", "--amount", "1000000", "--annual-rate", "0.049", "--term", "360", "--start-date", "2026-01-15"]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_table_shows_every_installment_totals_and_apr():
    result = run(*BASE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["#", "due", "date", "principal", "interest", "fee", "total", "remaining"]
    assert lines[1].split() == ["1", "2026-02-15", "1,223.94", "4,083.33", "0.00", "5,307.27", "998,776.06"]
    assert lines[360].split()[:2] == ["360", "2056-01-15"]
    summary = [line.split() for line in lines[-6:]]
    assert summary == [
        ["total", "principal", "1,000,000.00"],
        ["total", "interest", "910,615.12"],
        ["total", "fees", "0.00"],
        ["total", "payable", "1,910,615.12"],
        ["APR", "4.9000%", "(periodic", "IRR", "x", "12)"],
        ["effective", "annual", "5.0116%"],
    ]


def test_json_has_exactly_the_documented_shape_with_money_as_strings():
    result = run(*BASE, "--method", "equal_principal", "--fee-per-period", "10", "--upfront-fee", "500", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"installments", "total_interest", "total_fees", "apr", "effective_annual_rate"}
    assert len(data["installments"]) == 360
    first = data["installments"][0]
    assert first == {"period": 1, "due_date": "2026-02-15", "principal": "2777.78", "interest": "4083.33",
                     "fee": "10.00", "total": "6871.11", "remaining_principal": "997222.22"}
    assert data["total_fees"] == "4100.00"  # 360 × 10 + 500
    assert all(isinstance(data[key], str) for key in ("total_interest", "total_fees", "apr", "effective_annual_rate"))


def test_bullet_with_daily_term_and_act_365f():
    result = run("schedule", "--amount", "3000", "--annual-rate", "0.12", "--term", "30", "--method", "bullet",
                 "--frequency", "daily", "--day-count", "ACT/365F", "--start-date", "2026-01-15", "--json")
    assert json.loads(result.output)["installments"][0]["interest"] == "29.59"  # 3000 × 12% × 30/365


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--amount", "-5"], "--amount"),
        (["--amount", "0"], "--amount"),
        (["--amount", "abc"], "--amount"),
        (["--amount", "100.001"], "--amount"),
        (["--term", "0"], "--term"),
        (["--term", "twelve"], "--term"),
        (["--annual-rate", "-0.01"], "--annual-rate"),
        (["--annual-rate", "1.5"], "--annual-rate"),
        (["--method", "french"], "--method"),
        (["--start-date", "2026-02-30"], "--start-date"),
        (["--frequency", "daily"], "--frequency"),
        (["--due-day-rule", "fixed_day"], "--repayment-day"),
        (["--grace-periods", "12"], "--grace-periods"),
        (["--fee-per-period", "-1"], "--fee-per-period"),
        (["--upfront-fee", "2000"], "--upfront-fee"),
    ],
)
def test_bad_input_prints_one_line_naming_the_option_and_exits_2(args, option):
    base = {"--amount": "1000", "--annual-rate": "0.1", "--term": "12", "--start-date": "2026-01-15"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run("schedule", *[item for pair in base.items() for item in pair])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert option in lines[0]
    assert "Traceback" not in result.output


def test_a_missing_option_is_one_line_too():
    result = run("schedule", "--annual-rate", "0.1", "--term", "12")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: Missing option '--amount'."]
