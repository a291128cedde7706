"""A loan's contract: one typed value, stored by one serialiser and read back by one parser that never
fills a gap; the loan's columns of its values follow it."""

from __future__ import annotations

import copy
import json
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import update

from core.daycount import DayCount
from core.eod import run_eod
from core.loans.allocation import AllocationBasis, AllocationOrder, Component
from core.loans.contract import (
    SCHEDULE_FIELDS,
    Contract,
    DailySettingsReader,
    PrepaymentRules,
    ServicingRules,
    day_count_of_text,
    penalty_of_text,
)
from core.loans.errors import StoredContractError
from core.loans.fees import ContractFee, LateFeeRule
from core.loans.models import Loan
from core.loans.penalty import PenaltyPolicy
from core.loans.repayment import repay
from core.rounding import Rounding
from core.schedule import DueDayRule, Frequency, LoanTerms, Method
from servicing.helpers import book

#: a contract that sets every value away from its default, so a round trip that dropped one would show
CONTRACT = Contract(
    LoanTerms(D("36000.00"), D("0.0435"), 24, date(2026, 1, 31), method=Method.EQUAL_PRINCIPAL,
              frequency=Frequency.MONTHLY, day_count=DayCount.ACT_365F, due_day_rule=DueDayRule.FIXED_DAY,
              repayment_day=15, grace_periods=2, fee_per_period=D("12.50"), upfront_fee=D("300.00"),
              rounding=Rounding.HALF_EVEN),
    ServicingRules(PenaltyPolicy(multiplier=D("1.3"), daily_rate=D("0.0005"), compound=True, grace_days=3,
                                 grace_retroactive=False),
                   AllocationOrder((Component.INTEREST, Component.PRINCIPAL, Component.FEE, Component.PENALTY),
                                   AllocationBasis.COMPONENT),
                   PrepaymentRules(allowed=False, min_fee=D("50"), free_after_periods=6,
                                   fees=(ContractFee("prepay", "提前还款手续费", "percent_of_outstanding",
                                                     D("0.02")),)),
                   LateFeeRule((ContractFee("late", "逾期费", "fixed", D("20.00")),))))


def stored(**changes: Any) -> dict[str, Any]:
    """:data:`CONTRACT` as stored, with ``section__key=value`` changed (``...=DELETE`` removes the key)."""
    data = copy.deepcopy(CONTRACT.to_json())
    for name, value in changes.items():
        section, _, key = name.partition("__")
        target = data if not key else data[section]
        if value is DELETE:
            del target[key or section]
        else:
            target[key or section] = value
    return data


DELETE = object()


def test_a_contract_reads_back_exactly_as_it_was_stored():
    assert Contract.from_json(CONTRACT.to_json()) == CONTRACT
    assert set(SCHEDULE_FIELDS) == {spec.name for spec in fields(LoanTerms)}, "every schedule term is read back"


def test_a_contract_starting_on_another_day_changes_only_its_start():
    later = CONTRACT.starting(date(2026, 2, 3))
    assert later.terms == replace(CONTRACT.terms, start_date=date(2026, 2, 3)) and later.rules == CONTRACT.rules
    assert CONTRACT.starting(CONTRACT.terms.start_date) is CONTRACT


@pytest.mark.parametrize(("changes", "field"), [
    ({"schedule__annual_rate": DELETE}, "terms.schedule.annual_rate"),
    ({"schedule__rounding": DELETE}, "terms.schedule.rounding"),
    ({"penalty": DELETE}, "terms.penalty"),
    ({"penalty__multiplier": DELETE}, "terms.penalty.multiplier"),
    ({"penalty__daily_rate": DELETE}, "terms.penalty.daily_rate"),  # absent is damage; null is "none"
    ({"allocation__basis": DELETE}, "terms.allocation.basis"),
    ({"prepayment__free_after_periods": DELETE}, "terms.prepayment.free_after_periods"),
    ({"schedule__annual_rate": "twelve percent"}, "terms.schedule.annual_rate"),
    ({"schedule__annual_rate": 0.12}, "terms.schedule.annual_rate"),  # a float is refused as everywhere
    ({"schedule__annual_rate": "5"}, "terms.schedule.annual_rate"),  # 500%: LoanTerms refuses it
    ({"schedule__start_date": "2026-02-30"}, "terms.schedule.start_date"),
    ({"schedule__method": "balloon"}, "terms.schedule.method"),
    ({"schedule__periods": "24"}, "terms.schedule.periods"),
    ({"penalty__multiplier": "3"}, "terms.penalty.multiplier"),  # PenaltyPolicy refuses it
    ({"penalty__grace_days": "3"}, "terms.penalty.grace_days"),
    ({"penalty__compound": "yes"}, "terms.penalty.compound"),
    ({"allocation__order": ["penalty", "fee", "interest"]}, "terms.allocation.order"),
    ({"allocation__order": ["penalty", "fee", "interest", "tax"]}, "terms.allocation.order"),
    ({"allocation__basis": "random"}, "terms.allocation.basis"),
    ({"prepayment__fees": [{"code": "p", "name": "p", "basis": "percent_of_outstanding", "value": "1.5"}]},
     "terms.prepayment.fees[0].value"),
    ({"prepayment__fees": "0.01"}, "terms.prepayment.fees"),
])
def test_a_missing_or_unparsable_term_is_refused_naming_it_never_defaulted(changes, field):
    with pytest.raises(StoredContractError) as error:
        Contract.from_json(stored(**changes))
    assert error.value.field == field
    assert str(error.value).startswith(field + ": ")


def test_no_contract_at_all_is_refused():
    with pytest.raises(StoredContractError) as error:
        Contract.from_json(None)
    assert error.value.field == "terms"


def test_the_end_of_days_settings_are_the_contracts_own_parsed_once_per_setting():
    reader = DailySettingsReader()
    first, again = reader.read(CONTRACT.to_json()), reader.read(stored(schedule__principal="1000.00"))
    assert first is again, "loans of one setting share its parse"
    assert (first.annual_rate, first.basis, first.rounding, first.penalty, first.allocation) == (
        D("0.0435"), 365, Rounding.HALF_EVEN, CONTRACT.rules.penalty, CONTRACT.rules.allocation)
    for damaged, field in (({"penalty__grace_retroactive": DELETE}, "terms.penalty.grace_retroactive"),
                           ({"schedule__day_count": "ACT/999"}, "terms.schedule.day_count"),
                           ({"allocation": DELETE}, "terms.allocation")):
        with pytest.raises(StoredContractError) as error:
            reader.read(stored(**damaged))
        assert error.value.field == field


def test_the_sqls_texts_of_a_contract_parse_as_the_contract_does():
    assert penalty_of_text(json.dumps(CONTRACT.to_json()["penalty"])) == CONTRACT.rules.penalty
    assert day_count_of_text("ACT/365F") is DayCount.ACT_365F
    for text, field in ((None, "terms.penalty"), ("{", "terms.penalty"), ('{"multiplier": "1.5"}',
                                                                         "terms.penalty.daily_rate")):
        with pytest.raises(StoredContractError) as error:
            penalty_of_text(text)
        assert error.value.field == field
    with pytest.raises(StoredContractError) as error:
        day_count_of_text(None)
    assert error.value.field == "terms.schedule.day_count"


def test_a_loans_columns_of_contract_values_follow_the_contract_and_take_no_other_value():
    loan = Loan(contract=CONTRACT)
    assert (loan.principal, loan.annual_rate, loan.method, loan.rounding) == (
        D("36000.00"), D("0.0435"), "equal_principal", "half_even")
    loan.contract = replace(CONTRACT, terms=replace(CONTRACT.terms, annual_rate=D("0.05")))
    assert loan.annual_rate == D("0.05") and loan.contract.terms.annual_rate == D("0.05")
    with pytest.raises(StoredContractError) as error:
        loan.annual_rate = D("0.06")
    assert error.value.field == "annual_rate"
    with pytest.raises(StoredContractError) as error:
        loan.terms = stored(schedule__annual_rate=DELETE)
    assert error.value.field == "terms.schedule.annual_rate"
    with pytest.raises(StoredContractError):
        Loan(annual_rate=D("0.05"))  # a rate without a contract


def test_a_loan_with_a_damaged_contract_is_neither_serviced_nor_closed_by_a_default(books):
    loan = book(books, principal="8000.00", rate="0.18", start=date(2026, 1, 15), key="damaged")
    damaged = loan.contract.to_json()
    del damaged["allocation"]["order"]
    books.execute(update(Loan).where(Loan.id == loan.id).values(terms=damaged))  # around the model, as damage would
    books.commit()
    books.expire_all()
    with pytest.raises(StoredContractError) as error:
        repay(books, loan_id=loan.id, amount=D("100.00"), on=date(2026, 2, 1), today=date(2026, 2, 1),
              channel="sandbox_bank", key="r1", actor="tests")
    assert error.value.field == "terms.allocation.order"
    books.rollback()
    with pytest.raises(StoredContractError) as error:
        run_eod(books, date(2026, 2, 16))
    assert error.value.field == "terms.allocation.order"
