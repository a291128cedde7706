"""Worked example: a prepayment quoted days after the last end-of-day sees the loan brought to that day.

12,000.00 at 12% a year, 12 months of 1,066.19, disbursed 2026-05-15, with a prepayment fee of 1%.
Installment 1 (due 06-15) is 120.00 interest (12,000 × 1%) and 946.19 principal, leaving 11,053.81. The
end-of-day last ran for 06-10; installment 1 is not paid. A full prepayment is quoted for 06-20, with
06-11 to 06-20 not yet closed:

* installment 1 fell due on 06-15 and is 5 days overdue: 1,066.19 plus its penalty, 946.19 × 12% × 1.5 /
  360 = 0.473095 a day for 06-16..06-20, 5 × 0.473095 = 2.365475 → 2.36: 1,068.55 owed now;
* principal still to fall due (periods 2–12): 11,053.81;
* broken interest of period 2 (from 06-15): 11,053.81 × 12% × 5 / 360 = 18.4230 → 18.42;
* fee 1% of 11,053.81 = 110.5381 → 110.54.

Total 1,068.55 + 11,053.81 + 18.42 + 110.54 = 12,251.32. Reading the rows as they stood at the last
end-of-day (installment 1 still pending, no penalty) would have quoted 11,182.77 and missed installment
1. The quote posts nothing; an identical loan quoted after the end-of-day has closed 06-11..06-19 (its
installment 1 then bears 4 × 0.473095 = 1.89238 → 1.89 of penalty) gets the same figure, and prepaying
12,251.32 on 06-20 closes the loan with nothing over.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.ledger import JournalEntry, loan_balances
from core.loans.contract import ServicingRules
from core.loans.errors import PrepaymentNotAllowedError
from core.loans.fees import ContractFee, PrepaymentRules
from core.loans.models import Loan
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import amount_due
from servicing.helpers import book, check_books, close, installments

RULES = ServicingRules(prepayment=PrepaymentRules(fees=(ContractFee("prepayment", "提前还款手续费",
                                                                       "percent_of_outstanding", D("0.01")),)))
JUNE_20 = date(2026, 6, 20)


def _close_through(session, first: date, last: date) -> None:
    day = first
    while day <= last:
        close(session, day)
        day += timedelta(days=1)
    session.commit()


def _figures(quote):
    return quote.owed_now, quote.principal, quote.broken_interest, quote.fee, quote.total


def test_full_prepayment_quoted_10_days_after_the_last_eod_includes_the_installment_fallen_due_and_its_penalty(
        books):
    session = books
    first = book(session, rules=RULES, start=date(2026, 5, 15))
    twin = book(session, rules=RULES, start=date(2026, 5, 15))
    _close_through(session, date(2026, 5, 16), date(2026, 6, 10))
    entries = session.scalar(select(func.count(JournalEntry.id)))
    quote = prepayment_quote(session, loan_id=first.id, on=JUNE_20, today=JUNE_20)
    assert _figures(quote) == (D("1068.55"), D("11053.81"), D("18.42"), D("110.54"), D("12251.32"))
    assert amount_due(session, loan_id=first.id, on=JUNE_20) == D("1068.55")
    with pytest.raises(PrepaymentNotAllowedError) as refused:
        prepayment_quote(session, loan_id=first.id, on=JUNE_20, today=JUNE_20, principal="1000.00")
    assert refused.value.field == "principal"
    session.commit()
    assert session.scalar(select(func.count(JournalEntry.id))) == entries
    row = installments(session, first.id)[0]
    assert (row.status, row.penalty) == ("pending", 0)

    _close_through(session, date(2026, 6, 11), date(2026, 6, 19))
    assert installments(session, twin.id)[0].penalty == D("1.89")
    assert _figures(prepayment_quote(session, loan_id=twin.id, on=JUNE_20, today=JUNE_20)) == _figures(quote)

    event = prepay(session, loan_id=first.id, amount="12251.32", on=JUNE_20, today=JUNE_20, channel="sandbox_bank",
                   key="pp", actor="tests")
    assert (event.result["total"], event.result["excess"]) == ("12251.32", "0.00")
    session.commit()
    session.expire_all()
    assert session.get(Loan, first.id).state == "prepaid_closed"
    assert loan_balances(session, first.id).receivable == 0
    check_books(session)
