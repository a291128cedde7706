"""Property: for any valid product version, every charge the ledger posts is one the contract text states.

Hypothesis draws product versions across the schema (every fee timing and basis the validator accepts, both
penalty modes, 复利 on and off, grace days, day counts, prepayment allowed or not with its window), keeps the
ones ``validate_product`` accepts, books a loan under the version's contract and drives it through one of
five histories: on time, late, partial, prepaid, overdue. Then, from the ledger and first principles:

* each fee the ledger posts is recomputed from the figures the contract's clauses print (the upfront fee,
  the fee with each installment, each late fee once per installment, the prepayment fees summed), and the
  clause is in the text;
* penalty posted on an installment never paid is ``floor(base × printed daily rate × chargeable days)``;
* on time, the APR of the ledger's own cash flows (numpy-financial's IRR) is the disclosed APR within 0.0001;
* the same history writes the same journal on SQLite and on PostgreSQL, to the byte (fewer examples).
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory
from core.ledger import JournalEntry
from core.ledger.accounts import FEE_INCOME, PENALTY_INCOME, cash_clearing
from core.loans.contract import Contract
from core.loans.disclosure import charge_clauses, fee_words, percent, yuan
from core.loans.models import Loan
from core.loans.prepayment import prepay, prepayment_quote
from core.loans.repayment import repay
from core.origination.approved import servicing_rules
from core.origination.catalog import Offer
from core.products import validate_product
from core.schedule import build_schedule
from core.schedule.apr import schedule_apr
from servicing.helpers import check_books, close, customer, installments, seed_calendar

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "product_configs" / "consumer_installment.json")
                    .read_text(encoding="utf-8"))
START = date(2026, 1, 15)
HISTORIES = ("on_time", "late", "partial", "prepaid", "overdue")
FRACTIONS = st.integers(1, 200).map(lambda n: str(D(n) / 10000))  # 0.0001 .. 0.02
AMOUNTS = st.integers(100, 5000).map(lambda n: str(D(n) / 100))  # 1.00 .. 50.00


@st.composite
def product_versions(draw: st.DrawFn) -> dict:
    document = copy.deepcopy(SAMPLE)
    partial = draw(st.booleans())
    allowed = draw(st.booleans())
    kinds = [("upfront", "fixed"), ("upfront", "percent_of_principal"), ("per_installment", "fixed"),
             ("per_installment", "percent_of_principal"), ("late", "fixed"), ("late", "percent_of_outstanding"),
             ("late", "percent_of_principal")]
    if allowed:
        kinds += [("on_prepayment", "percent_of_outstanding")]
        if not partial:
            kinds += [("on_prepayment", "fixed"), ("on_prepayment", "percent_of_principal")]
    fees = []
    for k, (when, basis) in enumerate(draw(st.lists(st.sampled_from(kinds), max_size=4, unique=True))):
        fees.append({"code": f"f{k}", "name": {"zh": f"费用{k}", "en": f"fee {k}"}, "when": when, "basis": basis,
                     "value": draw(AMOUNTS if basis == "fixed" else FRACTIONS)})
    document["fees"] = fees
    if draw(st.booleans()):
        document["penalty"] = {"mode": "multiplier", "multiplier": str(D(draw(st.integers(100, 200))) / 100),
                               "compound": draw(st.booleans())}
    else:
        document["penalty"] = {"mode": "daily_rate", "daily_rate": str(D(draw(st.integers(1, 8))) / 10000),
                               "compound": draw(st.booleans())}
    document["overdue_grace_days"] = draw(st.integers(0, 3))
    document["day_count"] = draw(st.sampled_from(["ACT/360", "ACT/365F"]))
    document["prepayment"] = {"allowed": allowed, "earliest_period": draw(st.integers(1, 2)),
                              "partial_allowed": partial}
    document["term"] = {"unit": "month", "values": [3, 6], "default": 3}
    return document


def text_of(contract: Contract) -> str:
    return "\n".join(f"{clause.heading}：{clause.text}" for clause in charge_clauses(contract))


def book_version(session: Session, document: dict, amount: str, rate: str) -> tuple[Loan, Contract]:
    from core.loans.disbursement import disburse

    offer = Offer.of(1, document)
    terms = offer.product.loan_terms(amount, 3, "equal_installment", START, rate)
    rules = servicing_rules(offer, "equal_installment")
    loan = disburse(session, key="disbursement", customer_id=customer(session), terms=terms, channel="sandbox_bank",
                    actor="tests", product_code=offer.code, product_version_id=1, rules=rules)
    return loan, loan.contract


def pay(session: Session, loan: Loan, amount: D, on: date, key: str) -> None:
    repay(session, loan_id=loan.id, amount=amount, on=on, today=on, channel="sandbox_bank", key=key, actor="tests")


def drive(session: Session, loan: Loan, history: str) -> date:
    """Run ``history`` on ``loan``; returns the last business date closed."""
    rows = installments(session, loan.id)
    owed = [(r.due_date, r.principal + r.interest + r.fee, r.period) for r in rows]
    if history == "on_time":
        for due, amount, period in owed:
            pay(session, loan, amount, due, f"p{period}")
        return owed[-1][0]
    if history == "prepaid":
        opens = loan.contract.rules.prepayment.earliest_period
        on = next(due for due, _, period in owed if period == opens) + timedelta(days=3)
        for due, amount, period in owed:
            if due <= on:
                pay(session, loan, amount, due, f"p{period}")
        if loan.contract.rules.prepayment.allowed:
            quote = prepayment_quote(session, loan_id=loan.id, on=on, today=on)
            prepay(session, loan_id=loan.id, amount=quote.total, on=on, today=on, channel="sandbox_bank",
                   key="prepay", actor="tests")
        return on
    close(session, loan.disbursed_on)  # the books' first closed day: every later close catches up day by day
    last = owed[-1][0] + timedelta(days=10)
    if history == "late":
        for due, _, period in owed:
            on = due + timedelta(days=9)
            close(session, on - timedelta(days=1))
            session.expire_all()
            due_now = sum((r.principal + r.interest + r.fee + r.penalty - r.paid_principal - r.paid_interest
                           - r.paid_fee - r.paid_penalty for r in installments(session, loan.id)
                           if r.status not in ("pending", "paid")), D(0))
            pay(session, loan, due_now + 1, on, f"p{period}")  # one yuan over: penalty of the payment day
    elif history == "partial":
        for due, amount, period in owed:
            pay(session, loan, (amount / 2).quantize(D("0.01")), due, f"p{period}")
    close(session, last)
    return last


def posted(session: Session, loan: Loan, event: str, account: str) -> list[tuple[date, D]]:
    entries = session.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan.id, JournalEntry.event == event))
    return [(e.business_date, sum((p.credit for p in e.postings if p.account == account), D(0))) for e in entries]


def check_charges_are_stated(session: Session, loan: Loan, contract: Contract, history: str) -> None:
    text = text_of(contract)
    terms, rules = contract.terms, contract.rules
    rows = installments(session, loan.id)
    disbursed = posted(session, loan, "disbursement", FEE_INCOME)
    if terms.upfront_fee:
        assert yuan(terms.upfront_fee) in text and disbursed == [(loan.disbursed_on, terms.upfront_fee)]
    for _, amount in posted(session, loan, "eod_fee", FEE_INCOME):
        assert yuan(terms.fee_per_period) in text
        assert amount % terms.fee_per_period == 0  # whole installments' fees
    late_total = sum((amount for _, amount in posted(session, loan, "eod_late_fee", FEE_INCOME)), D(0))
    if late_total:
        assert all(fee.name in text and fee_words(fee, "该期逾期本金及利息") in text for fee in rules.late_fees.fees)
    assert late_total == sum((r.late_fee for r in rows), D(0))
    for row in rows:
        if row.late_fee and history in ("late", "overdue"):  # recomputed from the printed figures, once
            base = row.principal + row.interest  # nothing was paid on it before its grace ended in these histories
            expected = sum((fee.value if fee.basis == "fixed" else
                            ((terms.principal if fee.basis == "percent_of_principal" else base) * fee.value)
                            .quantize(D("0.01"), ROUND_HALF_UP) for fee in rules.late_fees.fees), D(0))
            assert row.late_fee == expected
    for _, amount in posted(session, loan, "prepayment_fee", FEE_INCOME):
        assert amount > 0 and all(fee_words(fee, "提前偿还本金") in text for fee in rules.prepayment.fees)
    if posted(session, loan, "eod_penalty", PENALTY_INCOME):
        printed = percent(rules.penalty.annual_equivalent(terms.annual_rate, terms.day_count.basis))
        assert printed in text and ("计收复利" in text)
        assert ("不计收复利" in text) is not rules.penalty.compound


def check_penalty_from_printed_rate(session: Session, loan: Loan, contract: Contract, last: date) -> None:
    """On an installment never paid, the penalty is floor(base × printed daily rate × days)."""
    rules, terms = contract.rules.penalty, contract.terms
    daily = (Fraction(rules.daily_rate) if rules.daily_rate is not None
             else Fraction(terms.annual_rate) * Fraction(rules.multiplier) / terms.day_count.basis)
    for row in installments(session, loan.id):
        if row.period == 0 or row.paid_principal or row.paid_interest or row.due_date >= last:
            continue
        days = (last - row.due_date).days
        chargeable = days if days > rules.grace_days else 0
        base = row.principal + (row.interest if rules.compound else 0)
        exact = Fraction(base) * daily * chargeable
        assert row.penalty == D(int(exact * 100)) / 100, (row.period, days)


def check_apr_of_the_ledger(session: Session, loan: Loan, contract: Contract) -> None:
    disclosed = schedule_apr(build_schedule(contract.terms)).apr
    clearing = cash_clearing("sandbox_bank")
    flows: dict[date, D] = {}
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan.id)):
        for p in entry.postings:
            if p.account == clearing:
                flows[entry.business_date] = flows.get(entry.business_date, D(0)) + p.debit - p.credit
    irr = npf.irr([float(flows[d]) for d in sorted(flows)])
    assert abs(D(str(irr * 12)) - disclosed) < D("0.0001")


def run(url: str, document: dict, amount: str, rate: str, history: str) -> tuple[Any, ...]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    seed_calendar(session, until=date(2026, 12, 31))
    loan, contract = book_version(session, document, amount, rate)
    last = drive(session, loan, history)
    session.flush()
    session.expire_all()
    return journal(session), loan, contract, last, session, engine


def journal(session: Session) -> str:
    entries = []
    for entry in session.scalars(select(JournalEntry).order_by(JournalEntry.idempotency_key)):
        postings = sorted((p.account, format(p.debit, ".2f"), format(p.credit, ".2f")) for p in entry.postings)
        entries.append([entry.idempotency_key, entry.event, entry.business_date.isoformat(), postings])
    return json.dumps(entries, ensure_ascii=False)


SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]
CASE = (product_versions(), st.sampled_from(["3000.00", "10000.00", "38523.75"]),
        st.sampled_from(["0.08", "0.11", "0.14"]), st.sampled_from(HISTORIES))


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(*CASE)
def test_every_charge_the_ledger_posts_is_stated_in_the_contract(tmp_path_factory, document, amount, rate, history):
    assume(validate_product(document) == [])
    url = f"sqlite:///{tmp_path_factory.mktemp('books') / 'books.sqlite3'}"
    _, loan, contract, last, session, engine = run(url, document, amount, rate, history)
    try:
        check_books(session)
        check_charges_are_stated(session, loan, contract, history)
        if history == "overdue":
            check_penalty_from_printed_rate(session, loan, contract, last)
        if history == "on_time":
            check_apr_of_the_ledger(session, loan, contract)
    finally:
        session.close()
        engine.dispose()


@pytest.mark.postgres
@settings(max_examples=3, deadline=None, suppress_health_check=SLOW)
@given(*CASE)
def test_sqlite_and_postgresql_write_the_same_journal(tmp_path_factory, postgres_url, document, amount, rate,
                                                     history):
    assume(validate_product(document) == [])
    results = []
    for url in (f"sqlite:///{tmp_path_factory.mktemp('books') / 'books.sqlite3'}", postgres_url):
        text, *_, session, engine = run(url, document, amount, rate, history)
        session.close()
        Base.metadata.drop_all(engine)
        engine.dispose()
        results.append(text)
    assert results[0] == results[1]
