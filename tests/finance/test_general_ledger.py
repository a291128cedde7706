"""The general ledger through the mapping: by GL code, by product and by kernel account, always balanced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servicing.helpers import customer, seed_calendar

from core.eod import run_eod
from core.finance.chart import shipped_chart
from core.finance.general_ledger import general_ledger
from core.ledger import loan_balances, trial_balance
from core.loans.disbursement import disburse
from core.loans.repayment import repay
from core.products.validate import read_document
from core.products.versions import create_draft
from core.schedule import LoanTerms

SAMPLES = Path(__file__).resolve().parents[2] / "product_configs"


def product(session, name: str) -> tuple[str, int]:
    version = create_draft(session, read_document(SAMPLES / name), actor="tests")
    return version.code, version.id


def lend(session, code_and_version: tuple[str, int], principal: str, key: str):
    code, version = code_and_version
    terms = LoanTerms(D(principal), D("0.12"), 6, date(2026, 1, 15))
    return disburse(session, key=key, customer_id=customer(session), terms=terms, channel="sandbox_bank",
                    actor="tests", product_code=code, product_version_id=version)


def test_each_products_lines_go_to_its_own_codes_and_the_three_readings_balance(books):
    consumer = product(books, "consumer_installment.json")   # principal 130101
    sme = product(books, "sme_business.json")                 # principal 130102
    lend(books, consumer, "10000.00", "c1")
    lend(books, consumer, "2500.00", "c2")
    lend(books, sme, "40000.00", "s1")
    orphan = lend(books, ("CASH", 999_999), "700.00", "x1")   # no such version: the chart's defaults
    run_eod(books, date(2026, 1, 16))
    repay(books, loan_id=orphan.id, amount=D("50.00"), on=date(2026, 1, 17), today=date(2026, 1, 17),
          channel="sandbox_bank", key="r1", actor="tests")
    books.commit()
    gl = general_ledger(books)
    by_gl = {row.key[0]: row.balance for row in gl.by_gl().rows}
    held = loan_balances(books, orphan.id)
    assert by_gl["130101"] == D("12500.00") + held.principal
    assert by_gl.get("224101", D(0)) == held.suspense
    assert (held.principal, held.suspense) == (D("700.00"), D("50.00"))   # nothing due yet: the money waits
    assert by_gl["130102"] == D("40000.00")
    assert by_gl["100201"] == -(D("53200.00") - D("50.00"))
    by_product = {row.key: row.balance for row in gl.by_product().rows}
    assert by_product[("CONSUMER_INSTALLMENT", "130101")] == D("12500.00")
    assert by_product[("SME_BUSINESS", "130102")] == D("40000.00")
    kernel = {row.account: (row.debit, row.credit) for row in trial_balance(books).rows}
    assert {row.key[0]: (row.debit, row.credit) for row in gl.by_kernel().rows} == kernel
    for reading in (gl.by_gl(), gl.by_product(), gl.by_kernel()):
        assert reading.balanced and reading.total_debit == sum(d for d, _ in kernel.values())
    interest = sum((row.balance for row in gl.by_gl().rows if row.key[0] == "113201"), D(0))
    assert interest == kernel["1132"][0] - kernel["1132"][1] > 0
    assert gl.balance_of("1303") == by_gl["130101"] + by_gl["130102"]


def test_a_ledger_through_a_date_holds_only_the_entries_of_that_date_or_before(books):
    consumer = product(books, "consumer_installment.json")
    lend(books, consumer, "10000.00", "c1")
    run_eod(books, date(2026, 1, 16))
    run_eod(books, date(2026, 1, 17))
    books.commit()
    before = general_ledger(books, through=date(2026, 1, 15))
    assert {row.key[0] for row in before.by_gl().rows} == {"130101", "100201"}
    one_day = general_ledger(books, through=date(2026, 1, 16)).balance_of("113201")
    two_days = general_ledger(books, through=date(2026, 1, 17)).balance_of("113201")
    # 10,000 at 12% a year: the first period's interest is 100.00 over the days of the period, accrued pro rata
    days = (date(2026, 2, 15) - date(2026, 1, 15)).days
    assert one_day == (D("100.00") / days).quantize(D("0.01"))
    assert two_days == (D("100.00") * 2 / days).quantize(D("0.01"))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["consumer_installment.json", "sme_business.json",
                                           "short_term_bridge.json"]),
                          st.integers(min_value=100, max_value=50_000)), min_size=1, max_size=5))
def test_whatever_is_booked_every_reading_balances_and_sums_to_the_journal(db_session, loans):
    seed_calendar(db_session)
    for i, (name, amount) in enumerate(loans):
        lend(db_session, product(db_session, name), f"{amount}.00", f"h{i}-{id(loans)}")
    gl = general_ledger(db_session, chart=shipped_chart())
    kernel = trial_balance(db_session)
    for reading in (gl.by_gl(), gl.by_product(), gl.by_kernel()):
        assert reading.balanced
        assert reading.total_debit == kernel.total_debit
    assert gl.balance_of("1303") == sum((D(f"{a}.00") for _, a in loans), D(0))
    db_session.rollback()
