"""Worked example: prepaying in month 5 under each re-scheduling mode.

The loan of the late-payment example (12,000.00 at 12%, 12 months, disbursed 2026-01-15, installment
1,066.19), with a prepayment fee of 1% of the principal prepaid. Installments 1–4 are paid on their due
dates, leaving 8,158.09 of principal after 2026-05-15. On 2026-06-01 (17 days into period 5) the
broken-period interest is 8,158.09 × 12% × 17 / 360 = 46.2292 → 46.23.

* Partial prepayment of 3,000.00 principal: fee 30.00, paid 3,000 + 46.23 + 30.00 = 3,076.23; the balance
  becomes 5,158.09 and interest runs on it from 06-01, so installment 5's interest is
  5,158.09 × 12% × 14 / 360 = 24.0711 → 24.07.

  - keep_term: still 8 installments (periods 5–12) at pmt(1%, 8, 5,158.09) = 674.11 (numpy-financial);
    installment 5's principal is 674.11 − 51.58 (a regular month's interest) = 622.53.
  - keep_installment: still 1,066.19 a month, nper(1%, 1,066.19, 5,158.09) = 4.98 → 5 installments
    (periods 5–9), the loan now matures on 2026-10-15; installment 5's principal is 1,066.19 − 51.58 = 1,014.61.

* Full prepayment: 8,158.09 + 46.23 + 1% fee 81.58 = 8,285.90; the loan closes as ``prepaid_closed``.
"""

from datetime import date
from decimal import Decimal as D

import numpy_financial as npf
import pytest
from sqlalchemy import func, select

from core.ledger import loan_balances
from core.loans.contract import ServicingRules
from core.loans.errors import (
    AmountExceedsOutstandingError,
    MoneyLeftHeldError,
    PrepaymentNotAllowedError,
    PrepaymentTooEarlyError,
    QuoteChangedError,
)
from core.loans.events import ServicingEvent
from core.loans.fees import ContractFee, PrepaymentRules
from core.loans.models import Loan
from core.loans.prepayment import prepay, prepayment_opens_on, prepayment_quote
from core.loans.repayment import repay
from servicing.helpers import book, check_books, installments

JUNE_1 = date(2026, 6, 1)
RULES = ServicingRules(prepayment=PrepaymentRules(fees=(ContractFee("prepayment", "提前还款手续费",
                                                                       "percent_of_outstanding", D("0.01")),)))


def four_paid(session):
    loan = book(session, rules=RULES)
    for month in (2, 3, 4, 5):
        repay(session, loan_id=loan.id, amount="1066.19", on=date(2026, month, 15), today=date(2026, month, 15),
              channel="sandbox_bank", key=f"pay-{loan.id}-{month}", actor="tests")
    assert loan_balances(session, loan.id).principal == D("8158.09")
    return loan


def test_quote_in_month_5__partial_3000_costs_3076_23_and_full_costs_8285_90(books):
    loan = four_paid(books)
    partial = prepayment_quote(books, loan_id=loan.id, on=JUNE_1, today=JUNE_1, principal="3000.00")
    assert (partial.broken_interest, partial.fee, partial.total) == (D("46.23"), D("30.00"), D("3076.23"))
    full = prepayment_quote(books, loan_id=loan.id, on=JUNE_1, today=JUNE_1)
    assert (full.principal, full.broken_interest, full.fee, full.total) == (
        D("8158.09"), D("46.23"), D("81.58"), D("8285.90"))


def test_partial_prepayment_in_month_5__keep_term_lowers_the_installment_to_674_11(books):
    loan = four_paid(books)
    prepay(books, loan_id=loan.id, amount="3076.23", on=JUNE_1, today=JUNE_1, channel="sandbox_bank", key="pp",
           actor="tests", principal="3000.00", mode="keep_term")
    level = D(str(round(-npf.pmt(0.01, 8, 5158.09), 2)))
    assert level == D("674.11")
    rows = [r for r in installments(books, loan.id) if r.period >= 5]
    assert [r.period for r in rows] == list(range(5, 13))
    assert (rows[0].start, rows[0].interest, rows[0].principal) == (JUNE_1, D("24.07"), D("622.53"))
    assert all(r.principal + r.interest == level for r in rows[1:-1])
    assert sum(r.principal for r in rows) == D("5158.09")
    assert loan_balances(books, loan.id).principal == D("5158.09")
    repay(books, loan_id=loan.id, amount="646.60", on=date(2026, 6, 15), today=date(2026, 6, 15),
          channel="sandbox_bank", key="p5", actor="tests")
    assert installments(books, loan.id)[4].status == "paid"
    check_books(books)


def test_partial_prepayment_in_month_5__keep_installment_ends_4_months_early(books):
    loan = four_paid(books)
    prepay(books, loan_id=loan.id, amount="3076.23", on=JUNE_1, today=JUNE_1, channel="sandbox_bank", key="pp",
           actor="tests", principal="3000.00", mode="keep_installment")
    assert round(float(npf.nper(0.01, -1066.19, 5158.09)), 2) == 4.98
    rows = [r for r in installments(books, loan.id) if r.period >= 5]
    assert [r.period for r in rows] == [5, 6, 7, 8, 9]
    assert (rows[0].interest, rows[0].principal) == (D("24.07"), D("1014.61"))
    assert all(r.principal + r.interest == D("1066.19") for r in rows[1:-1])
    assert sum(r.principal for r in rows) == D("5158.09")
    books.expire_all()
    assert books.get(Loan, loan.id).maturity_date == date(2026, 10, 15)
    check_books(books)


def test_full_prepayment_in_month_5__closes_the_loan_for_8285_90(books):
    """8,300.00 brought for 8,285.90: the loan closes with 14.10 held only because the user chose to keep it
    for a refund; without that choice the prepayment is refused naming ``keep_for_refund``."""
    loan = four_paid(books)
    books.commit()
    with pytest.raises(MoneyLeftHeldError) as held:
        prepay(books, loan_id=loan.id, amount="8300.00", on=JUNE_1, today=JUNE_1, channel="sandbox_bank",
               key="full-unasked", actor="tests")
    assert held.value.field == "keep_for_refund" and "14.10" in str(held.value)
    books.rollback()
    event = prepay(books, loan_id=loan.id, amount="8300.00", on=JUNE_1, today=JUNE_1, channel="sandbox_bank",
                   key="full", actor="tests", keep_for_refund=True)
    assert event.result["total"] == "8285.90" and event.result["excess"] == "14.10"
    books.expire_all()
    closed = books.get(Loan, loan.id)
    assert (closed.state, closed.closed_on) == ("prepaid_closed", JUNE_1)
    balances = loan_balances(books, loan.id)
    assert (balances.receivable, balances.suspense) == (0, D("14.10"))
    rows = installments(books, loan.id)
    assert [r.period for r in rows] == [1, 2, 3, 4, 5] and all(r.status == "paid" for r in rows)
    assert (rows[4].principal, rows[4].interest, rows[4].fee, rows[4].due_date) == (
        D("8158.09"), D("46.23"), D("81.58"), JUNE_1)
    check_books(books)


def test_a_partial_prepayment_that_repays_everything_or_skips_an_overdue_installment_is_refused(books):
    loan = four_paid(books)
    with pytest.raises(AmountExceedsOutstandingError) as error:
        prepayment_quote(books, loan_id=loan.id, on=JUNE_1, today=JUNE_1, principal="8158.09")
    assert error.value.field == "principal"
    with pytest.raises(PrepaymentNotAllowedError):
        prepay(books, loan_id=loan.id, amount="5000", on=date(2026, 6, 20), today=date(2026, 6, 20),
               channel="sandbox_bank", key="x", actor="tests", principal="1000.00")


def test_prepaying_less_than_the_quote_is_refused_naming_the_amount(books):
    loan = four_paid(books)
    with pytest.raises(Exception) as error:
        prepay(books, loan_id=loan.id, amount="8000.00", on=JUNE_1, today=JUNE_1, channel="sandbox_bank", key="short",
               actor="tests")
    assert getattr(error.value, "field", None) == "amount"


def test_a_contract_without_prepayment_refuses_it(books):
    loan = book(books, rules=ServicingRules(prepayment=PrepaymentRules(allowed=False)))
    with pytest.raises(PrepaymentNotAllowedError):
        prepayment_quote(books, loan_id=loan.id, on=date(2026, 2, 1), today=date(2026, 2, 1))


def test_a_contract_opening_prepayment_at_installment_3_refuses_it_before_2026_04_15(books):
    """Installment 3 of the loan disbursed 2026-01-15 falls due 2026-04-15: the quote and the prepayment
    before it are refused naming ``on``, and nothing is recorded; on the day the quote is given."""
    loan = book(books, rules=ServicingRules(prepayment=PrepaymentRules(earliest_period=3)))
    books.commit()
    assert prepayment_opens_on(books, loan) == date(2026, 4, 15)
    with pytest.raises(PrepaymentTooEarlyError) as error:
        prepayment_quote(books, loan_id=loan.id, on=date(2026, 4, 14), today=date(2026, 4, 14))
    assert error.value.field == "on" and "2026-04-15" in str(error.value)
    with pytest.raises(PrepaymentTooEarlyError):
        prepay(books, loan_id=loan.id, amount="20000.00", on=date(2026, 2, 15), today=date(2026, 2, 15),
               channel="sandbox_bank", key="early", actor="tests")
    books.rollback()
    assert books.scalar(select(func.count(ServicingEvent.id)).where(ServicingEvent.kind == "prepayment")) == 0
    assert prepayment_quote(books, loan_id=loan.id, on=date(2026, 4, 15), today=date(2026, 4, 15)).full


def test_a_30_day_bullet_counts_its_window_in_days_from_disbursement(books):
    """A bullet loan in days with ``earliest_period`` 7 may be prepaid from the seventh day on."""
    rules = ServicingRules(prepayment=PrepaymentRules(earliest_period=7, earliest_unit="day"))
    loan = book(books, principal="3000.00", periods=30, method="bullet", frequency="daily", rules=rules)
    assert prepayment_opens_on(books, loan) == date(2026, 1, 22)
    with pytest.raises(PrepaymentTooEarlyError):
        prepayment_quote(books, loan_id=loan.id, on=date(2026, 1, 21), today=date(2026, 1, 21))
    opened = prepayment_quote(books, loan_id=loan.id, on=date(2026, 1, 22), today=date(2026, 1, 22))
    assert opened.principal == D("3000.00")


def test_a_prepayment_confirming_a_total_the_quote_no_longer_is_is_refused(books):
    """Confirming 8,000.00 when the quote on 2026-06-01 is 8,285.90 is refused naming ``quoted_total``;
    confirming 8,285.90 prepays."""
    loan = four_paid(books)
    books.commit()
    with pytest.raises(QuoteChangedError) as error:
        prepay(books, loan_id=loan.id, amount="8285.90", quoted_total="8000.00", on=JUNE_1, today=JUNE_1,
               channel="sandbox_bank", key="stale", actor="tests")
    assert error.value.field == "quoted_total" and "8285.90" in str(error.value)
    books.rollback()
    event = prepay(books, loan_id=loan.id, amount="8285.90", quoted_total="8285.90", on=JUNE_1, today=JUNE_1,
                   channel="sandbox_bank", key="fresh", actor="tests")
    assert event.amount == D("8285.90") and books.get(Loan, loan.id).state == "prepaid_closed"
