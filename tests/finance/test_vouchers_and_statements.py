"""Month-end vouchers (记账凭证) in an importable layout, the balance sheet and income statement, reconciliation.

June 2026: a CONSUMER_INSTALLMENT loan of 10,000.00 and an SME_BUSINESS loan of 40,000.00 disbursed on 06-01,
end-of-day closed every day to 06-30 (interest accrues daily), a provision booked on 06-30. Every figure is
checked against the journal's raw postings summed in the test.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook
from servicing.helpers import customer
from sqlalchemy import select

from core.eod import run_eod
from core.finance.chart import shipped_chart
from core.finance.provision_posting import book_provision
from core.finance.reconciliation import reconcile
from core.finance.statements import balance_sheet, income_statement
from core.finance.vouchers import InvalidLayoutError, read_layout, vouchers, write_csv, write_xlsx
from core.ledger import JournalEntry, Posting
from core.ledger import accounts as acc
from core.loans.disbursement import disburse
from core.products.validate import read_document
from core.products.versions import create_draft
from core.schedule import LoanTerms

CONFIGS = Path(__file__).resolve().parents[2] / "product_configs"
FIRST, LAST = date(2026, 6, 1), date(2026, 6, 30)


@pytest.fixture
def june(books):
    for name, principal in (("consumer_installment.json", "10000.00"), ("sme_business.json", "40000.00")):
        version = create_draft(books, read_document(CONFIGS / name), actor="tests")
        disburse(books, key=f"june-{name}", customer_id=customer(books), terms=LoanTerms(
            D(principal), D("0.12"), 12, FIRST), channel="sandbox_bank", actor="tests",
            product_code=version.code, product_version_id=version.id)
    books.commit()
    day = FIRST
    while day <= LAST:
        run_eod(books, day)
        day += timedelta(days=1)
    book_provision(books, LAST)
    books.commit()
    return books


def journal_sums(session, first: date, last: date) -> dict[str, tuple[D, D]]:
    sums: dict[str, list[D]] = defaultdict(lambda: [D(0), D(0)])
    for account, debit, credit in session.execute(select(Posting.account, Posting.debit, Posting.credit).join(
            JournalEntry).where(JournalEntry.business_date.between(first, last))):
        sums[account][0] += debit
        sums[account][1] += credit
    return {k: (v[0], v[1]) for k, v in sums.items()}


def test_each_voucher_balances_and_the_months_vouchers_add_up_to_the_journal(june):
    found = vouchers(june, FIRST, LAST)
    assert all(v.total_debit == v.total_credit for v in found)
    assert [v.number for v in found] == list(range(1, len(found) + 1))
    assert {v.day for v in found} <= {FIRST + timedelta(days=k) for k in range(30)}
    raw = journal_sums(june, FIRST, LAST)
    assert sum((v.total_debit for v in found), D(0)) == sum((d for d, _ in raw.values()), D(0))
    by_code: dict[str, D] = defaultdict(lambda: D(0))
    for voucher in found:
        for line in voucher.lines:
            by_code[line.gl_code] += line.debit - line.credit
    assert by_code["601101"] == -(raw[acc.INTEREST_INCOME][1] - raw[acc.INTEREST_INCOME][0])
    assert by_code["670101"] == raw[acc.WRITE_OFF_EXPENSE][0] - raw[acc.WRITE_OFF_EXPENSE][1] > 0


def test_vouchers_are_written_in_the_kingdee_layout_as_csv_and_xlsx_with_its_codes(june):
    layout = read_layout(CONFIGS / "vouchers" / "kingdee.json")
    found = vouchers(june, FIRST, LAST)
    rows = list(csv.reader(io.StringIO(write_csv(found, layout).lstrip("\ufeff"))))
    assert rows[0] == ["凭证日期", "凭证字", "凭证号", "分录序号", "摘要", "科目代码", "科目名称", "币别", "借方金额",
                       "贷方金额"]
    codes = {row[5] for row in rows[1:]}
    assert "1303.01" in codes and "1303.02" in codes and "130101" not in codes
    assert sum((D(row[8] or "0") for row in rows[1:]), D(0)) == sum((D(row[9] or "0") for row in rows[1:]), D(0))
    sheet = load_workbook(io.BytesIO(write_xlsx(found, layout))).active
    assert [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)] == rows
    yonyou = read_layout(CONFIGS / "vouchers" / "yonyou.json")
    assert list(csv.reader(io.StringIO(write_csv(found, yonyou).lstrip("\ufeff"))))[1][4] in shipped_chart()


def test_a_layout_file_with_an_unknown_field_is_refused_naming_it(tmp_path):
    bad = json.loads((CONFIGS / "vouchers" / "kingdee.json").read_text(encoding="utf-8"))
    bad["columns"][2]["field"] = "voucher_no"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InvalidLayoutError) as refused:
        read_layout(path)
    assert [p.pointer for p in refused.value.problems] == ["/columns/2/field"]


def test_the_balance_sheet_balances_and_the_income_statement_is_the_months_income_less_expense(june):
    sheet = balance_sheet(june, LAST)
    assert sheet.balanced
    assets = {row.gl_code: row.amount for row in sheet.assets}
    raw = journal_sums(june, date(2000, 1, 1), LAST)
    assert assets["130101"] == D("10000.00") and assets["130102"] == D("40000.00")
    assert assets["130401"] == -(raw[acc.LOAN_LOSS_ALLOWANCE][1] - raw[acc.LOAN_LOSS_ALLOWANCE][0]) < 0
    statement = income_statement(june, FIRST, LAST)
    june_raw = journal_sums(june, FIRST, LAST)
    income = sum((c - d for k, (d, c) in june_raw.items() if k in (acc.INTEREST_INCOME, acc.FEE_INCOME,
                                                                     acc.PENALTY_INCOME)), D(0))
    expense = june_raw[acc.WRITE_OFF_EXPENSE][0] - june_raw[acc.WRITE_OFF_EXPENSE][1]
    assert statement.result == income - expense == sheet.result


def test_the_sub_ledger_reconciles_to_the_control_accounts_and_a_tampered_projection_shows(june):
    assert reconcile(june).differences == []
    from core.ledger import LoanBalance
    row = june.scalars(select(LoanBalance)).first()
    row.suspense = D("5.00")      # money the projection says it holds that the journal never received
    june.flush()
    [difference] = reconcile(june).differences
    assert (difference.gl_code, difference.amount) == ("224101", D("5.00"))
