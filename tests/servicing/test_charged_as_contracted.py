"""Worked examples: what the contract says is what the books charge (one per defect the audit found).

Every figure is derived here from first principles (exact fractions, numpy-financial), never read back
from the code under test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import numpy_financial as npf
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory
from core.ledger import JournalEntry
from core.ledger.accounts import cash_clearing
from core.loans.allocation import AllocationOrder
from core.loans.contract import Contract, ServicingRules
from core.loans.daily import InstallmentRow, LoanRow, close_day
from core.loans.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy, policy_on
from core.loans.disclosure import charge_clauses
from core.loans.fees import ContractFee, LateFeeRule, PrepaymentRules
from core.loans.models import FiveTier
from core.loans.penalty import PenaltyPolicy, charge_penalties
from core.loans.repayment import repay
from core.origination.approved import servicing_rules
from core.origination.catalog import Offer
from core.rounding import Rounding
from core.schedule import LoanTerms, build_schedule
from core.schedule.apr import schedule_apr
from servicing.helpers import book, check_books, close, installments, seed_calendar

SAMPLES = Path(__file__).resolve().parents[2] / "product_configs"
FEN = Fraction(1, 100)


def fen_down(value: Fraction) -> D:
    """``value`` rounded down to the fen, as a Decimal."""
    return D(int(value / FEN)) / 100


def fee(basis: str, value: str, code: str = "prepayment") -> ContractFee:
    return ContractFee(code, "提前还款手续费", basis, D(value))


# -- 1. prepayment fees: summed, on the base the schema names ---------------------------------------------

@pytest.mark.parametrize(("fees", "expected"), [
    ((fee("fixed", "5.00"),), "5.00"),  # was 0.00: a fixed fee alone was ignored
    ((fee("percent_of_principal", "0.002"),), "200.00"),  # 0.2 % of the 100,000.00 principal, not of 40,000.00
    ((fee("percent_of_outstanding", "0.002"), fee("fixed", "2.00", "flat")), "82.00"),  # summed, not the larger
    ((fee("percent_of_principal", "0.002"), fee("fixed", "2.00", "flat")), "202.00"),
])
def test_prepaying_40000_of_a_100000_loan_charges_each_fee_on_its_base_summed(fees, expected):
    rules = PrepaymentRules(fees=fees)
    charged = rules.fee(principal=D("100000.00"), prepaid=D("40000.00"), periods_fallen_due=2,
                        rounding=Rounding.HALF_UP)
    assert charged == D(expected)


def test_the_contract_of_a_product_version_lists_its_prepayment_and_late_fees_as_the_product_states_them():
    document = json.loads((SAMPLES / "consumer_installment.json").read_text(encoding="utf-8"))
    document["fees"] += [{"code": "flat", "name": {"zh": "提前还款固定费", "en": "Flat"}, "when": "on_prepayment",
                          "basis": "fixed", "value": "5.00"}]
    rules = servicing_rules(Offer.of(1, document), "equal_installment")
    # the sample's 0.5 % of the principal prepaid plus the fixed 5.00: 40,000 × 0.005 + 5 = 205.00
    assert rules.prepayment.fee(principal=D("100000.00"), prepaid=D("40000.00"), periods_fallen_due=3,
                                rounding=Rounding.HALF_UP) == D("205.00")
    assert rules.late_fees == LateFeeRule((ContractFee("late", "逾期管理费", "fixed", D("20.00")),))


# -- 3. late fees: charged once per overdue installment after the grace, settled by the waterfall -----------

LATE = ServicingRules(penalty=PenaltyPolicy(grace_days=3),
                      late_fees=LateFeeRule((ContractFee("late", "逾期管理费", "fixed", D("20.00")),
                                             ContractFee("mgmt", "逾期费", "percent_of_outstanding", D("0.001")))))


def test_an_installment_overdue_past_its_grace_is_charged_its_late_fees_once(books):
    loan = book(books, rules=LATE)  # 12,000.00 at 12 %, 12 months: installment 1 is 946.19 + 120.00 on 02-15
    first = installments(books, loan.id)[0]
    overdue = first.principal + first.interest
    expected = D("20.00") + (overdue * D("0.001")).quantize(D("0.01"))  # 20.00 + 1.07 = 21.07
    assert expected == D("21.07")
    day = date(2026, 1, 16)
    while day <= date(2026, 2, 18):  # 3 days past due: within the grace
        close(books, day)
        day += timedelta(days=1)
    assert installments(books, loan.id)[0].late_fee == 0
    while day <= date(2026, 2, 25):
        close(books, day)
        day += timedelta(days=1)
    row = installments(books, loan.id)[0]
    assert (row.late_fee, row.fee) == (expected, expected)
    entries = books.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan.id,
                                                       JournalEntry.event == "eod_late_fee")).all()
    assert [(e.business_date, sum(p.debit for p in e.postings)) for e in entries] == [(date(2026, 2, 19), expected)]
    # a payment settles it as a fee, after the penalty and before interest (the contract's order)
    penalty = row.penalty
    event = repay(books, loan_id=loan.id, amount=penalty + expected + D("10.00"), on=day, today=day,
                  channel="sandbox_bank", key="late-pay", actor="tests")
    lines = event.result["lines"]
    assert [line[1] for line in lines] == ["penalty", "fee", "interest"]
    assert D(lines[1][2]) == expected
    books.expire_all()
    check_books(books)


# -- 4. penalty rounding: exact, the same on both databases ----------------------------------------------

def _overdue_row(base: str) -> InstallmentRow:
    zero = D(0)
    return InstallmentRow(1, 1, date(2026, 1, 1), date(2026, 2, 1), D(base), zero, zero, zero, zero, zero, zero,
                          zero, zero, zero, "overdue")


def test_24_days_of_double_rate_compound_penalty_on_38523_75_at_24pct_is_1232_76():
    """38,523.75 × 24 % × 2 / 360 × 24 days = 38,523.75 × 0.032 = 1,232.76 exactly; the fen carried each day
    is always under one fen."""
    row = _overdue_row("38523.75")
    policy = PenaltyPolicy(multiplier=D(2), compound=True)
    for k in range(1, 25):
        charges = charge_penalties(policy, [row], date(2026, 2, 1) + timedelta(days=k), annual_rate=D("0.24"),
                                   basis=360)
        exact = Fraction("38523.75") * Fraction("0.48") * k / 360
        assert row.penalty == fen_down(exact), k
        assert 0 <= charges[0].carry / 360 < D("0.01")
        assert Fraction(charges[0].carry) / 360 == exact - Fraction(row.penalty)  # the remainder, exactly
    assert row.penalty == D("1232.76")


def test_the_largest_remainder_the_schema_allows_is_stored_exactly(books):
    """The schema allows 10 decimal places to a rate and to a multiplier: a remainder (money × rate numerator)
    has at most 2 + 10 + 10 = 22 places, and ``penalty_carry`` keeps 24 on PostgreSQL (text on SQLite)."""
    loan = book(books)
    carry = D("3.5999999999999999999999")  # 22 places, just under one fen × 360
    row = installments(books, loan.id)[0]
    row.penalty_carry = carry
    books.flush()
    books.expire_all()
    assert installments(books, loan.id)[0].penalty_carry == carry


def journal(session: Session) -> str:
    """The journal as canonical text: each entry's key, event, date and postings in order."""
    entries = []
    for entry in session.scalars(select(JournalEntry).order_by(JournalEntry.idempotency_key)):
        postings = sorted((p.account, format(p.debit, ".2f"), format(p.credit, ".2f")) for p in entry.postings)
        entries.append([entry.idempotency_key, entry.event, entry.business_date.isoformat(), postings])
    return json.dumps(entries, ensure_ascii=False)


def _penalised_books(url: str) -> tuple[str, list[tuple[D, D]]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    try:
        with make_session_factory(engine)() as session:
            seed_calendar(session)
            rules = ServicingRules(penalty=PenaltyPolicy(multiplier=D(2), compound=True),
                                   late_fees=LateFeeRule((ContractFee("late", "逾期费", "fixed", D("20.00")),)))
            loans = [book(session, principal=p, rate="0.24", periods=3, rules=rules, key=f"pen-{p}")
                     for p in ("38000.00", "1234.57", "99999.99")]
            session.commit()
            day = date(2026, 1, 16)
            while day <= date(2026, 3, 25):
                close(session, day)
                session.commit()
                day += timedelta(days=1)
            rows = [(r.penalty, r.penalty_carry) for loan in loans for r in installments(session, loan.id)]
            return journal(session), rows
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgresql_write_the_same_penalty_journal_to_the_byte(tmp_path, postgres_url):
    """Three loans overdue from their first due date for 38 days (PostgreSQL takes its set-based path on
    the steady days): the same journal, and every installment's penalty is its exact cumulative figure."""
    on_sqlite = _penalised_books(f"sqlite:///{tmp_path / 'books.sqlite3'}")
    on_postgres = _penalised_books(postgres_url)
    assert on_sqlite[0] == on_postgres[0]
    assert on_sqlite[1] == on_postgres[1]
    assert all(0 <= carry < D("3.60") for _, carry in on_sqlite[1])  # under one fen × the 360-day divisor


# -- 5. the upfront fee: paid at disbursement, as the APR discounts it --------------------------------------

def test_the_apr_of_the_ledger_cash_flows_of_an_on_time_loan_with_an_upfront_fee_is_the_disclosed_apr(books):
    terms = LoanTerms(D("3000.00"), D("0.18"), 12, date(2026, 1, 15), upfront_fee=D("30.00"))
    disclosed = schedule_apr(build_schedule(terms)).apr
    loan = book(books, principal="3000.00", rate="0.18", upfront_fee="30.00")
    rows = installments(books, loan.id)
    assert (rows[0].period, rows[0].due_date) == (0, loan.disbursed_on)  # due the day it is paid out
    for row in rows:  # each paid on its due date (the payment brings the loan to date first)
        repay(books, loan_id=loan.id, amount=row.principal + row.interest + row.fee, on=row.due_date,
              today=row.due_date, channel="sandbox_bank", key=f"on-time-{row.period}", actor="tests")
    flows: dict[date, D] = {}
    clearing = cash_clearing("sandbox_bank")
    for entry in books.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan.id)):
        for posting in entry.postings:
            if posting.account == clearing:
                flows[entry.business_date] = flows.get(entry.business_date, D(0)) + posting.debit - posting.credit
    dates = sorted(flows)
    assert dates[0] == loan.disbursed_on and flows[dates[0]] == D("-2970.00")  # 3,000.00 out, 30.00 in
    actual = npf.irr([float(flows[d]) for d in dates]) * 12
    assert abs(D(str(actual)) - disclosed) < D("0.0001")
    books.expire_all()
    check_books(books)


# -- 6. a non-performing loan is upgraded only once its arrears are repaid ----------------------------------

def test_the_policy_holds_a_non_performing_class_until_arrears_are_repaid():
    policy = ClassificationPolicy(date(2023, 7, 1), "test")
    assert policy.reclassify(FiveTier.SUBSTANDARD, 65) is FiveTier.SUBSTANDARD
    assert policy.reclassify(FiveTier.SUBSTANDARD, 0) is FiveTier.NORMAL
    assert policy.reclassify(FiveTier.SPECIAL_MENTION, 10) is FiveTier.SPECIAL_MENTION
    assert policy.reclassify(FiveTier.NORMAL, 95) is FiveTier.SUBSTANDARD
    follows = ClassificationPolicy.from_mapping({"effective_from": "2023-07-01", "upgrade_after_repaid_from": None})
    assert follows.reclassify(FiveTier.SUBSTANDARD, 65) is FiveTier.SPECIAL_MENTION


def test_a_partial_payment_does_not_move_a_substandard_loan_to_special_mention():
    """The audit's case: 次级 at 96 days; a partial payment settles installment 1 (due 02-15) and leaves
    installment 2 (due 03-15) overdue, so the day's close counts 69 days (关注 by days): the class stays 次级
    until installment 2 is repaid too, then the loan is 正常 at once."""
    on = date(2026, 5, 23)
    zero = D(0)
    loan = LoanRow(1, D("0.12"), 360, Rounding.HALF_UP, PenaltyPolicy(), AllocationOrder(), "overdue", 97, "M4",
                   "substandard", date(2027, 1, 15))
    second = InstallmentRow(2, 2, date(2026, 2, 15), date(2026, 3, 15), D("955.65"), D("110.54"), zero, zero,
                            D("110.54"), D("50.00"), zero, zero, zero, zero, "overdue")
    policy = policy_on(DEFAULT_CLASSIFICATION, on)
    close_day(loan, [second], on, policy, lambda step: step)
    assert (loan.days_past_due, loan.five_tier) == ((on - date(2026, 3, 15)).days, "substandard")
    second.paid_principal, second.paid_interest = second.principal, second.interest
    second.paid_penalty = second.penalty
    close_day(loan, [second], on + timedelta(days=1), policy, lambda step: step)
    assert (loan.days_past_due, loan.five_tier) == (0, "normal")


# -- 2. the contract prints every charge servicing can levy, on the basis it is charged -------------------

def _sample_contract(name: str, method: str) -> Contract:
    offer = Offer.of(1, json.loads((SAMPLES / name).read_text(encoding="utf-8")))
    terms = offer.product.loan_terms("100000.00" if name == "home_improvement.json" else "10000.00", 12, method,
                                     date(2026, 1, 15))
    return Contract(terms, servicing_rules(offer, method))


def test_the_consumer_contract_prints_its_prepayment_fee_late_fee_and_whether_interest_compounds():
    text = "\n".join(c.text for c in charge_clauses(_sample_contract("consumer_installment.json",
                                                                     "equal_installment")))
    assert "提前还款手续费提前偿还本金的0.5%" in text  # 0.0050 of the principal prepaid, as charged
    assert "逾期管理费人民币20.00元，每期只收取一次" in text
    assert "逾期未付的利息不计收复利" in text
    compound = _sample_contract("consumer_installment.json", "equal_installment")
    compound = Contract(compound.terms, replace(compound.rules, penalty=replace(compound.rules.penalty,
                                                                                 compound=True)))
    assert "逾期未付的利息按同一罚息利率计收复利" in "\n".join(c.text for c in charge_clauses(compound))


def test_the_home_improvement_contract_annualises_its_daily_penalty_on_the_365_days_it_is_charged():
    """0.05 % a day on ACT/365F: 0.0005 × 365 = 18.25 % a year, not 0.0005 × 360 = 18 %."""
    text = "\n".join(c.text for c in charge_clauses(_sample_contract("home_improvement.json", "equal_principal")))
    assert "日罚息率0.05%（按每个自然日计收，折合年利率18.25% = 日罚息率 × 365）" in text
    assert "逾期费该期逾期本金及利息的0.1%" in text
    assert "放款当日另行支付手续费人民币1,000.00元" in text  # 1 % of 100,000.00, paid at disbursement
