"""Worked example: a prepayment nets the money the borrower already paid, and closes nothing with money held.

12,000.00 at 12% over 12 months (等额本息), disbursed 2026-01-15, no prepayment fee. On 2026-02-01, before
the first due date, the borrower pays 1,066.19: nothing is due yet, so it all goes to the overpayment
suspense (溢缴款). A full prepayment on 2026-02-10 costs the principal plus the interest of the 26 days
used, ACT/360: 12,000 × 12% × 26 / 360 = 104.00, total 12,104.00. The suspense pays 1,066.19 of it, so the
borrower still brings 12,104.00 − 1,066.19 = 11,037.81, and the loan closes with nothing held.

Paying 13,000.00 early instead (within two payoffs) leaves 13,000.00 − 12,104.00 = 896.00 over: the
prepayment then needs no cash, and closing would strand 896.00, so it is refused unless the user keeps it
for a refund; kept, it is refunded from the closed loan.
"""

from datetime import date
from decimal import Decimal as D

import pytest

from core.ledger import loan_balances
from core.loans.errors import MoneyLeftHeldError
from core.loans.models import Loan
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import refund_suspense, repay
from servicing.helpers import book, check_books

FEB_1, FEB_10 = date(2026, 2, 1), date(2026, 2, 10)
BROKEN = (D("12000.00") * D("0.12") * 26 / 360).quantize(D("0.01"))


def _paid_early(session, amount: str) -> Loan:
    loan = book(session)
    repay(session, loan_id=loan.id, amount=amount, on=FEB_1, today=FEB_1, channel="sandbox_bank",
          key=f"early-{loan.id}", actor="tests")
    assert loan_balances(session, loan.id).suspense == D(amount)
    session.commit()
    return loan


def test_the_full_prepayment_quote_nets_the_1066_19_already_paid_and_closes_with_nothing_held(books):
    loan = _paid_early(books, "1066.19")
    quote = prepayment_quote(books, loan_id=loan.id, on=FEB_10, today=FEB_10)
    assert BROKEN == D("104.00")
    assert (quote.total, quote.held, quote.payable, quote.held_after) == (
        D("12000.00") + BROKEN, D("1066.19"), D("12000.00") + BROKEN - D("1066.19"), 0)
    assert quote.as_dict()["payable"] == "11037.81"
    books.rollback()
    event = prepay(books, loan_id=loan.id, amount="11037.81", quoted_total="11037.81", on=FEB_10, today=FEB_10,
                   channel="sandbox_bank", key="pp", actor="tests")
    assert (event.result["from_held"], event.result["excess"]) == ("1066.19", "0.00")
    books.commit()
    books.expire_all()
    assert books.get(Loan, loan.id).state == "prepaid_closed"
    balances = loan_balances(books, loan.id)
    assert (balances.receivable, balances.suspense) == (0, 0)
    check_books(books)


def test_bringing_the_gross_total_instead_is_refused_unless_the_excess_is_kept_for_a_refund(books):
    loan = _paid_early(books, "1066.19")
    with pytest.raises(MoneyLeftHeldError) as refused:
        prepay(books, loan_id=loan.id, amount="12104.00", on=FEB_10, today=FEB_10, channel="sandbox_bank",
               key="gross", actor="tests")
    assert refused.value.field == "keep_for_refund" and "1066.19" in str(refused.value)


def test_suspense_above_the_payoff_closes_the_loan_only_when_kept_for_a_refund_and_is_refunded_after(books):
    loan = _paid_early(books, "13000.00")
    quote = prepayment_quote(books, loan_id=loan.id, on=FEB_10, today=FEB_10)
    assert (quote.payable, quote.held_after) == (0, D("13000.00") - D("12104.00"))
    books.rollback()
    with pytest.raises(MoneyLeftHeldError):
        prepay(books, loan_id=loan.id, amount="0.00", on=FEB_10, today=FEB_10, channel="sandbox_bank",
               key="none", actor="tests")
    books.rollback()
    prepay(books, loan_id=loan.id, amount="0.00", on=FEB_10, today=FEB_10, channel="sandbox_bank", key="kept",
           actor="tests", keep_for_refund=True)
    books.commit()
    books.expire_all()
    assert books.get(Loan, loan.id).state == "prepaid_closed"
    assert loan_balances(books, loan.id).suspense == D("896.00")
    refund_suspense(books, loan_id=loan.id, amount="896.00", on=FEB_10, today=FEB_10, channel="sandbox_bank",
                    key="refund", actor="tests")
    books.commit()
    assert loan_balances(books, loan.id).suspense == 0
    check_books(books)


def test_a_partial_prepayment_uses_the_suspense_first(books):
    """2,000.00 of principal on 02-10 costs 2,000.00 + 104.00 of broken interest; 1,066.19 is held."""
    loan = _paid_early(books, "1066.19")
    quote = prepayment_quote(books, loan_id=loan.id, on=FEB_10, today=FEB_10, principal="2000.00")
    assert (quote.total, quote.payable) == (D("2104.00"), D("2104.00") - D("1066.19"))
    books.rollback()
    prepay(books, loan_id=loan.id, amount=quote.payable, on=FEB_10, today=FEB_10, channel="sandbox_bank",
           key="part", actor="tests", principal="2000.00")
    books.commit()
    assert loan_balances(books, loan.id).suspense == 0
    assert loan_balances(books, loan.id).principal == D("10000.00")
    check_books(books)
