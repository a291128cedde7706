"""The daily reconciliation file (对账文件) against our journal, with differences planted on both sides."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import core.businessday.closes  # noqa: F401  (servicing needs the end-of-day tables)
from core.businessday.calendar import seed_calendar
from core.customers.parties import Customer
from core.ledger import Line, cash_clearing, post
from core.ledger.accounts import INTEREST_INCOME
from core.loans.disbursement import disburse
from core.loans.repayment import repay
from core.plugins.types import BankAccount, PaymentRequest
from core.schedule import LoanTerms
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.reconcile import Difference, reconcile_with_ledger
from plugins.sandbox_bank.statement import StatementFormatError, StatementLine, read_statement, write_statement
from tests.plugins_builtin.conftest import SIGNING_TIME

DAY = date(2026, 1, 15)
CARD = BankAccount(bank_code="ICBC", account_number="6222020200000000001", holder_name="李四")


def test_statement_round_trip_and_a_truncated_file_is_refused():
    lines = [StatementLine("SB1", "D-1", "payout", Decimal("12000.00")),
             StatementLine("SB2", "C-1", "debit", Decimal("250.50")),
             StatementLine("SB3", "R-1", "refund", Decimal("50.00"))]
    content = write_statement(DAY, lines)
    assert content.decode().splitlines()[0] == "summary,2026-01-15,3,250.50,12050.00"
    assert read_statement(content) == (DAY, lines)
    truncated = b"\n".join(content.splitlines()[:-1]) + b"\n"
    with pytest.raises(StatementFormatError) as error:
        read_statement(truncated)
    assert error.value.field == "summary"
    with pytest.raises(StatementFormatError) as bad_kind:
        read_statement(content.replace(b"C-1,debit,in", b"C-1,debit,out"))
    assert bad_kind.value.field == "line 4.kind"


def test_reconciliation_finds_every_planted_difference(manager, db_session):
    """The bank moved: payout D-1 12,000.00 out; debits C-1 1,100.16, C-2 300.00 and C-4 100.00 in.

    We booked: the disbursement D-1 and the repayments C-1 and C-4 (110.00, one digit off) through
    servicing, and a hand-posted receipt C-3 of 200.00 the bank never collected. Expected: D-1 and
    C-1 agree; C-2 is missing in our ledger, C-3 missing at the bank, C-4 differs by 10.00.
    """
    seed_calendar(db_session, date(2026, 1, 1), date(2026, 12, 31))
    person = Customer(name="李四", id_number="11010519491231002X", phone="13812345678")
    db_session.add(person)
    db_session.flush()
    with open_bank({}, SIGNING_TIME, db_session) as bank:
        bank.bind_card(CARD.account_number, CARD.holder_name)
    for hook, request_id, amount in (("payment_disburse", "D-1", "12000.00"), ("payment_debit", "C-1", "1100.16"),
                                     ("payment_debit", "C-2", "300.00"), ("payment_debit", "C-4", "100.00")):
        manager.call("sandbox_bank", hook, session=db_session,
                     request=PaymentRequest(request_id=request_id, amount=Decimal(amount), account=CARD))
    loan = disburse(db_session, key="D-1", customer_id=person.id, channel="sandbox_bank", actor="tests",
                    terms=LoanTerms(Decimal("12000.00"), Decimal("0.18"), 12, DAY), product_code="cash",
                    product_version_id=1)
    repay(db_session, loan_id=loan.id, amount=Decimal("1100.16"), on=DAY, today=DAY, channel="sandbox_bank", key="C-1",
          actor="tests")
    repay(db_session, loan_id=loan.id, amount=Decimal("110.00"), on=DAY, today=DAY, channel="sandbox_bank", key="C-4",
          actor="tests")
    post(db_session, key="C-3", event="receipt", business_date=DAY,
         lines=[Line.dr(cash_clearing("sandbox_bank"), "200.00"), Line.cr(INTEREST_INCOME, "200.00")])
    with open_bank({}, SIGNING_TIME, db_session) as bank:
        bank.settle_due()
        file = bank.statement(DAY)
    day, lines = read_statement(file)
    result = reconcile_with_ledger(db_session, "sandbox_bank", day, lines)
    assert result.matched == 2
    assert result.differences == (
        Difference("missing_in_ledger", "C-2", Decimal("300.00"), None),
        Difference("missing_in_bank", "C-3", None, Decimal("200.00")),
        Difference("amount_mismatch", "C-4", Decimal("100.00"), Decimal("110.00")),
    )
    assert not result.balanced
    assert result.to_csv().decode().splitlines()[1:] == [
        "sandbox_bank,2026-01-15,missing_in_ledger,C-2,300.00,",
        "sandbox_bank,2026-01-15,missing_in_bank,C-3,,200.00",
        "sandbox_bank,2026-01-15,amount_mismatch,C-4,100.00,110.00",
    ]


def test_a_day_where_both_sides_agree_is_balanced(manager, db_session):
    post(db_session, key="C-9", event="receipt", business_date=DAY,
         lines=[Line.dr(cash_clearing("sandbox_bank"), "42.00"), Line.cr(INTEREST_INCOME, "42.00")])
    result = reconcile_with_ledger(db_session, "sandbox_bank", DAY,
                                   [StatementLine("SB9", "C-9", "debit", Decimal("42.00"))])
    assert result.balanced and result.matched == 1
