"""The reports over the six-loan portfolio of ``portfolio.py``, every figure worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from core.plugins.types import PluginFailure
from plugins.reports import ReportPeriodError, UnknownReportError
from tests.plugins_builtin.portfolio import seed

D = Decimal
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def generate(manager, session, code, start, end, config=None):
    files = manager.call("reports", "report_generate", session=session, report_type=code, period_start=start,
                         period_end=end)
    return {f.name: f for f in files}


def csv_rows(report_file) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(report_file.content.decode("utf-8-sig"))))


@pytest.fixture
def books(db_session):
    loans = seed(db_session)
    db_session.commit()
    return loans


def test_the_plugin_lists_three_reports(manager):
    answers = manager.broadcast("report_types")
    assert [t.code for t in answers["reports"]] == ["monthly_statistics", "credit_reporting", "five_tier_migration"]


def test_monthly_statistics_for_march_2026(manager, db_session, books):
    """At 2026-03-31 A (10,000) and E (2,000) are current, B (4,000) 26 days late (M1, 关注), C (2,000) 101
    days late (M4, 次级); D was prepaid and F written off in March. Outstanding 4 loans, 18,000:
    M0 12,000 = 0.6667, M1 4,000 = 0.2222, M4 2,000 = 0.1111; overdue 6,000 = 0.3333; NPL (C) 0.1111.
    Disbursed in March: E, 2,000. Decisions in March (Shanghai days): 1, 2, 3 approved, 4 rejected: 0.7500.
    """
    files = generate(manager, db_session, "monthly_statistics", *MARCH)
    assert set(files) == {"monthly_statistics_20260301_20260331.csv", "monthly_statistics_20260301_20260331.xlsx"}
    rows = {(r["section"], r["item"]): (r["count"], r["amount"], r["ratio"])
            for r in csv_rows(files["monthly_statistics_20260301_20260331.csv"])}
    assert rows["disbursed", "loans"] == ("1", "2000.00", "")
    assert rows["outstanding", "loans"] == ("4", "18000.00", "")
    assert rows["bucket", "M0"] == ("2", "12000.00", "0.6667")
    assert rows["bucket", "M1"] == ("1", "4000.00", "0.2222")
    assert rows["bucket", "M2"] == ("0", "0.00", "0.0000")
    assert rows["bucket", "M4"] == ("1", "2000.00", "0.1111")
    assert rows["overdue", "M1+"] == ("2", "6000.00", "0.3333")
    assert rows["five_tier", "normal"] == ("2", "12000.00", "0.6667")
    assert rows["five_tier", "special_mention"] == ("1", "4000.00", "0.2222")
    assert rows["five_tier", "substandard"] == ("1", "2000.00", "0.1111")
    assert rows["five_tier", "loss"] == ("0", "0.00", "0.0000")
    assert rows["five_tier", "non_performing"] == ("1", "2000.00", "0.1111")
    assert rows["applications", "approved"][0] == "3"
    assert rows["applications", "rejected"][0] == "1"
    assert rows["applications", "approval_rate"][2] == "0.7500"


def test_the_xlsx_holds_the_same_figures_as_numbers(manager, db_session, books):
    files = generate(manager, db_session, "monthly_statistics", *MARCH)
    book = openpyxl.load_workbook(io.BytesIO(files["monthly_statistics_20260301_20260331.xlsx"].content))
    sheet = book["月度业务统计 2026-03"]
    cells = {(row[0], row[1]): row[3:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    count, amount, share = cells["bucket", "M1"]
    assert (count, D(str(amount)), D(str(share))) == (1, D("4000"), D("0.2222"))
    assert sheet["E1"].value == "amount" and sheet["E3"].number_format == "#,##0.00"


def test_credit_reporting_file_for_march_2026(manager, db_session, books):
    """One row per account open at some point of March (all six), with the 24-month grids worked by hand:

    A ``/``×21 then Jan ``*`` (opened, nothing due), Feb ``N``, Mar ``N``.
    B ``/``×20, Dec ``*``, Jan ``N``, Feb ``M`` (02-05 paid 02-20), Mar ``1`` (26 days at 03-31).
    C ``/``×18, Oct ``*``, Nov ``N``, Dec ``1`` (11 days), Jan ``2`` (42), Feb ``3`` (70), Mar ``4`` (101).
    D ``/``×19, Nov ``*``, Dec-Feb ``N``, Mar ``C`` (prepaid 03-12).
    E ``/``×23, Mar ``*`` (opened 03-20).
    F ``/``×14, Jun ``*``, Jul ``N``, Aug ``1`` (30 days), Sep ``2`` (60), Oct ``4`` (91), Nov ``5`` (121),
    Dec ``6`` (152), Jan ``7`` (183), Feb ``7`` (211), Mar ``B`` (written off 03-15).
    """
    files = generate(manager, db_session, "credit_reporting", *MARCH)
    rows = {r["account_id"]: r for r in csv_rows(files["credit_reporting_20260301_20260331.csv"])}
    ids = {letter: str(loan.id) for letter, loan in books.items()}
    assert set(rows) == set(ids.values())
    grids = {letter: rows[ids[letter]]["grid_24"] for letter in ids}
    assert grids == {"A": "/" * 21 + "*NN", "B": "/" * 20 + "*NM1", "C": "/" * 18 + "*N1234",
                     "D": "/" * 19 + "*NNNC", "E": "/" * 23 + "*", "F": "/" * 14 + "*N1245677B"}
    assert all(len(g) == 24 for g in grids.values())

    def fields(letter, *names):
        return tuple(rows[ids[letter]][name] for name in names)

    monthly = ("report_time_code", "account_status", "five_tier", "balance", "remaining_periods",
               "due_this_month", "paid_this_month", "last_repayment_date", "last_repayment_amount")
    assert fields("A", *monthly) == ("30", "1", "1", "10000.00", "10", "1100.00", "1100.00", "2026-03-10", "1100.00")
    assert fields("B", *monthly) == ("30", "2", "2", "4000.00", "3", "1060.00", "0.00", "2026-02-20", "1060.00")
    assert fields("C", *monthly) == ("30", "2", "3", "2000.00", "0", "0.00", "0.00", "2025-11-20", "1030.00")
    assert fields("D", *monthly) == ("20", "3", "1", "0.00", "0", "1000.00", "2000.00", "2026-03-12", "2000.00")
    assert fields("E", *monthly) == ("10", "1", "1", "2000.00", "2", "0.00", "0.00", "", "")
    assert fields("F", *monthly) == ("20", "4", "5", "0.00", "0", "0.00", "0.00", "2025-07-01", "1040.00")
    overdue = ("overdue_periods", "overdue_amount", "overdue_principal_31_60", "overdue_principal_61_90",
               "overdue_principal_91_180", "overdue_principal_over_180")
    assert fields("B", *overdue) == ("1", "1060.00", "0.00", "0.00", "0.00", "0.00")
    # C at 03-31: 12-20 unpaid for 101 days (91-180), 01-20 for 70 (61-90)
    assert fields("C", *overdue) == ("2", "2060.00", "0.00", "1000.00", "1000.00", "0.00")
    assert fields("A", "name", "id_type", "id_number", "account_type", "credit_amount") == (
        "张三", "10", "110101199003070935", "D1", "12000.00")


def test_credit_reporting_can_mask_identifiers_for_test_exports(db_session, books):
    from tests.plugins_builtin.conftest import make_manager

    manager = make_manager({"reports": {"mask_pii": True}})
    files = generate(manager, db_session, "credit_reporting", *MARCH)
    first = csv_rows(files["credit_reporting_20260301_20260331.csv"])[0]
    assert (first["name"], first["id_number"]) == ("张*", "110***********0935")


def test_five_tier_migration_for_march_2026(manager, db_session, books):
    """Opening (02-28): A 11,000, B 4,000 (02-05 paid 02-20), D 2,000 正常; C 2,000 关注 (70 days);
    F 3,000 次级 (211 days). Closing (03-31): A 正常, B 关注, C 次级, D 结清, F 核销; E new, 正常 2,000.
    正常 row: 17,000, of which 4,000 moved down: 0.2353. 关注 → 次级 and 次级 → 核销: 1.0000 each.
    """
    files = generate(manager, db_session, "five_tier_migration", *MARCH)
    stem = "five_tier_migration_20260301_20260331"
    assert set(files) == {f"{stem}-count.csv", f"{stem}-balance.csv", f"{stem}.xlsx"}
    columns = ("正常", "关注", "次级", "可疑", "损失", "结清", "核销", "total", "downgrade_rate")
    counts = {r["from"]: tuple(r[c] for c in columns) for r in csv_rows(files[f"{stem}-count.csv"])}
    balances = {r["from"]: tuple(r[c] for c in columns) for r in csv_rows(files[f"{stem}-balance.csv"])}
    assert counts["normal"] == ("1", "1", "0", "0", "0", "1", "0", "3", "0.2353")
    assert counts["special_mention"] == ("0", "0", "1", "0", "0", "0", "0", "1", "1.0000")
    assert counts["substandard"] == ("0", "0", "0", "0", "0", "0", "1", "1", "1.0000")
    assert counts["doubtful"] == ("0",) * 8 + ("",)
    assert counts["new"] == ("1", "0", "0", "0", "0", "0", "0", "1", "")
    assert balances["normal"] == ("11000.00", "4000.00", "0.00", "0.00", "0.00", "2000.00", "0.00", "17000.00",
                                  "0.2353")
    assert balances["substandard"][6:8] == ("3000.00", "3000.00")
    assert balances["new"][0] == "2000.00"


def test_monthly_reports_refuse_a_period_that_is_not_a_calendar_month(manager, db_session):
    with pytest.raises(PluginFailure) as failure:
        generate(manager, db_session, "monthly_statistics", date(2026, 3, 1), date(2026, 3, 30))
    assert isinstance(failure.value.cause, ReportPeriodError)
    with pytest.raises(PluginFailure) as reversed_:
        generate(manager, db_session, "five_tier_migration", date(2026, 3, 31), date(2026, 3, 1))
    assert isinstance(reversed_.value.cause, ReportPeriodError)
    with pytest.raises(PluginFailure) as unknown:
        generate(manager, db_session, "balance_sheet", *MARCH)
    assert isinstance(unknown.value.cause, UnknownReportError)
