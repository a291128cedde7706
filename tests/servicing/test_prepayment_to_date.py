"""Worked example: a prepayment quoted days after the last end-of-day sees the loan brought to that day.

The loan of the late-payment example (12,000.00 at 12%, 12 months of 1,066.19, disbursed 2026-01-15) with a
prepayment fee of 1%. Installments 1–4 are paid on their due dates; the end-of-day last ran for 06-10.
Installment 5 (due 06-15: principal 984.61, interest 81.58) is not paid. A full prepayment is quoted for
06-20, with 06-11 to 06-20 not yet closed:

* installment 5 fell due on 06-15 and is 5 days overdue: 1,066.19 plus its penalty, 984.61 × 12% × 1.5 /
  360 = 0.492305 a day for 06-16..06-20, 5 × 0.492305 = 2.461525 → 2.46: 1,068.65 owed now;
* principal still to fall due (periods 6–12): 8,158.09 left after installment 4 − 984.61 = 7,173.48;
* broken interest of period 6 (from 06-15): 7,173.48 × 12% × 5 / 360 = 11.9558 → 11.96;
* fee 1% of 7,173.48 = 71.7348 → 71.73.

Total 1,068.65 + 7,173.48 + 11.96 + 71.73 = 8,325.82. Reading the rows as they stood at the last end-of-day
(installment 5 still pending, no penalty) would have quoted 7,257.17 and missed installment 5. The quote
posts nothing; an identical loan quoted after the end-of-day has closed 06-11..06-19 gets the same figure,
and prepaying 8,325.82 on 06-20 closes the loan with nothing over.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.ledger import JournalEntry, loan_balances
from core.loans.models import Loan
from core.servicing import PrepaymentRules, ServicingRules, prepay, prepayment_quote, repay
from core.servicing.errors import PrepaymentNotAllowedError
from core.servicing.repayment import amount_due
from servicing.helpers import book, check_books, close, installments

RULES = ServicingRules(prepayment=PrepaymentRules(fee_rate=D("0.01")))
JUNE_20 = date(2026, 6, 20)


def _close_through(session, first: date, last: date, loans) -> None:
    day = first
    while day <= last:
        if day.day == 15 and day.month <= 5:
            for loan in loans:
                repay(session, loan_id=loan.id, amount="1066.19", on=day, channel="sandbox_bank",
                      key=f"pay-{loan.id}-{day}", actor="tests")
        close(session, day)
        day += timedelta(days=1)
    session.commit()


def _figures(quote):
    return quote.owed_now, quote.principal, quote.broken_interest, quote.fee, quote.total


def test_full_prepayment_quoted_10_days_after_the_last_eod_includes_the_installment_fallen_due_and_its_penalty(
        books):
    session = books
    first, twin = book(session, rules=RULES), book(session, rules=RULES)
    _close_through(session, date(2026, 1, 16), date(2026, 6, 10), (first, twin))
    entries = session.scalar(select(func.count(JournalEntry.id)))
    quote = prepayment_quote(session, loan_id=first.id, on=JUNE_20)
    assert _figures(quote) == (D("1068.65"), D("7173.48"), D("11.96"), D("71.73"), D("8325.82"))
    assert amount_due(session, loan_id=first.id, on=JUNE_20) == D("1068.65")
    with pytest.raises(PrepaymentNotAllowedError) as refused:
        prepayment_quote(session, loan_id=first.id, on=JUNE_20, principal="1000.00")
    assert refused.value.field == "principal"
    session.commit()
    assert session.scalar(select(func.count(JournalEntry.id))) == entries
    fifth = installments(session, first.id)[4]
    assert (fifth.status, fifth.penalty) == ("pending", 0)

    _close_through(session, date(2026, 6, 11), date(2026, 6, 19), ())
    assert installments(session, twin.id)[4].penalty == D("1.96")  # 4 × 0.492305 = 1.96922 by 06-19
    assert _figures(prepayment_quote(session, loan_id=twin.id, on=JUNE_20)) == _figures(quote)

    event = prepay(session, loan_id=first.id, amount="8325.82", on=JUNE_20, channel="sandbox_bank", key="pp",
                   actor="tests")
    assert (event.result["total"], event.result["excess"]) == ("8325.82", "0.00")
    session.commit()
    session.expire_all()
    assert session.get(Loan, first.id).state == "prepaid_closed"
    assert loan_balances(session, first.id).receivable == 0
    check_books(session)
