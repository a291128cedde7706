"""The ledger commands (trial balance, verifying and rebuilding the projection), and the application and
loan tables on both back ends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from click.testing import CliRunner
from sqlalchemy import update

from books.factories import add_customer, add_loan, tamper_projection, three_loans
from core.applications.models import Application
from core.ledger import Line, LoanBalance, LoanBalances, cash_clearing, loan_balances, post
from core.ledger import accounts as acc
from core.loans.contract import Contract
from core.loans.models import Loan, LoanInstallment
from core.states import APPLICATION_STATES
from loanfactory.cli import main

D = Decimal


def _books(db_session):
    loan = add_loan(db_session, add_customer(db_session))
    post(db_session, key="disbursement:1", event="disbursement", business_date=date(2026, 1, 15), loan_id=loan.id,
         lines=[Line.dr(acc.PRINCIPAL_RECEIVABLE, "12000.00"), Line.cr(cash_clearing("sandbox_bank"), "12000.00")])
    db_session.commit()
    return loan


def test_trial_balance_command_prints_accounts_and_balanced(db_session, db_url):
    _books(db_session)
    result = CliRunner().invoke(main, ["ledger", "trial-balance", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "1303" in result.output and "12,000.00" in result.output and "balanced" in result.output
    as_json = json.loads(CliRunner().invoke(main, ["ledger", "trial-balance", "--database-url", db_url,
                                                   "--json"]).output)
    assert as_json["balanced"] is True
    assert Decimal(as_json["total_debit"]) == Decimal("12000.00")


def test_rebuild_projection_check_reports_drift_and_the_rebuild_repairs_it(db_session, db_url):
    loan = _books(db_session)
    db_session.execute(update(LoanBalance).values(principal=Decimal("1.00")))
    db_session.commit()
    check = CliRunner().invoke(main, ["ledger", "rebuild-projection", "--check", "--database-url", db_url])
    assert check.exit_code == 1
    assert f"loan {loan.id} principal: journal 12000" in check.output
    rebuilt = CliRunner().invoke(main, ["ledger", "rebuild-projection", "--database-url", db_url])
    assert rebuilt.exit_code == 0 and "1 loans" in rebuilt.output
    again = CliRunner().invoke(main, ["ledger", "rebuild-projection", "--check", "--database-url", db_url, "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == {"differences": [], "ranges": 1}


def ledger(*args: str) -> Any:
    return CliRunner().invoke(main, ["ledger", *args])


def test_verify_projection_reports_nothing_on_clean_books(db_session, db_url):
    three_loans(db_session)
    result = ledger("verify-projection", "--database-url", db_url, "--range-size", "2")
    assert result.exit_code == 0, result.output
    assert "0 difference(s) between the projection and the journal (2 range(s) of loan ids" in result.stdout
    as_json = ledger("verify-projection", "--database-url", db_url, "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {"differences": [], "ranges": 1}


def test_verify_projection_reports_a_tampered_row_and_the_rebuild_of_its_loan_repairs_it(db_session, db_url):
    first, second, _ = three_loans(db_session)
    tamper_projection(db_session, second, principal=D("11000.00"), suspense=D("5.00"))
    result = ledger("verify-projection", "--database-url", db_url, "--range-size", "1")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"loan {second} principal", f"loan {second} suspense"]
    assert "journal 12000.00" in lines[0] and "projection 11000.00" in lines[0]
    assert lines[-1].startswith("2 difference(s) between the projection and the journal (3 range(s)")
    elsewhere = ledger("verify-projection", "--database-url", db_url, "--loan-ids", f"{first}-{first}")
    assert elsewhere.exit_code == 0 and "0 difference(s)" in elsewhere.stdout
    as_json = json.loads(ledger("verify-projection", "--database-url", db_url, "--json").stdout)
    assert [(d["loan_id"], d["bucket"]) for d in as_json["differences"]] == [(second, "principal"),
                                                                             (second, "suspense")]
    rebuilt = ledger("rebuild-projection", "--database-url", db_url, "--loan-ids", f"{second}-{second}")
    assert rebuilt.exit_code == 0 and "rebuilt the projection of 1 loans" in rebuilt.stdout
    assert ledger("verify-projection", "--database-url", db_url).exit_code == 0
    db_session.expire_all()
    assert loan_balances(db_session, second) == LoanBalances(principal=D("12000.00"))


def test_verify_projection_refuses_a_malformed_range_of_loan_ids(db_session, db_url):
    three_loans(db_session)
    result = ledger("verify-projection", "--database-url", db_url, "--loan-ids", "5-1")
    assert result.exit_code == 2 and "--loan-ids" in result.output and "Traceback" not in result.output


def test_a_database_without_ledger_tables_is_reported_in_one_line(db_url):
    result = CliRunner().invoke(main, ["ledger", "trial-balance", "--database-url", db_url])
    assert result.exit_code == 1
    assert "has no ledger tables" in result.output and "Traceback" not in result.output


def test_an_application_keeps_its_documents_and_a_loan_its_exact_rate(db_session):
    customer = add_customer(db_session)
    application = Application(customer_id=customer.id, channel="wechat", external_id="WX-1", product_code="cash_12m",
                              product_version_id=4, amount=Decimal("20000.00"), term=12, method="equal_installment",
                              collateral={"type": "none"}, consents={"credit_bureau": True, "at": "2026-01-10"},
                              reason_codes=["R01"], decision={"approved_amount": "20000.00", "rate": "0.04875"})
    APPLICATION_STATES.start(db_session, application, actor="channel:wechat")
    loan = add_loan(db_session, customer)
    loan.application_id = application.id
    loan.contract = Contract(replace(loan.contract.terms, annual_rate=Decimal("0.04875")))
    db_session.add(LoanInstallment(loan_id=loan.id, period=1, start=date(2026, 1, 15), due_date=date(2026, 2, 15),
                                   principal=Decimal("981.84"), interest=Decimal("43.50")))
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Application, application.id)
    assert stored.state == "draft" and stored.consents["credit_bureau"] is True and stored.reason_codes == ["R01"]
    booked = db_session.get(Loan, loan.id)
    assert booked.annual_rate == Decimal("0.04875")
    assert (booked.state, booked.bucket, booked.five_tier, booked.days_past_due) == ("active", "M0", "normal", 0)
    installment = db_session.query(LoanInstallment).filter_by(loan_id=loan.id).one()
    assert (installment.status, installment.paid_principal, installment.fee) == ("pending", Decimal(0), Decimal(0))


def test_the_trial_balance_prints_money_with_two_decimals_and_keeps_fractions_of_a_fen(db_session, db_url):
    post(db_session, key="receipt-1", event="receipt", business_date=date(2026, 3, 2),
         lines=[Line.dr(cash_clearing("bank"), "20494.60"), Line.cr(acc.INTEREST_INCOME, "20494.60")])
    post(db_session, key="accrual-1", event="eod_accrual", business_date=date(2026, 3, 2),
         lines=[Line.dr(cash_clearing("other"), "1.2345"), Line.cr(acc.INTEREST_INCOME, "1.2345")])
    db_session.commit()
    result = CliRunner().invoke(main, ["ledger", "trial-balance", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    cash = next(line for line in result.output.splitlines() if line.startswith(cash_clearing("bank")))
    assert cash.split()[-3:] == ["20,494.60", "0.00", "20,494.60"]
    accrued = next(line for line in result.output.splitlines() if line.startswith(cash_clearing("other")))
    assert accrued.split()[-3:] == ["1.2345", "0.00", "1.2345"]
    assert result.output.splitlines()[-2].split()[-2:] == ["20,495.8345", "20,495.8345"]
