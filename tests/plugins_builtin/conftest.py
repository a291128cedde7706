"""Fixtures for the built-in reference plugins: a plugin manager holding them, a fixed clock, a contract."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.loans.contract import Contract
from core.loans.disclosure import charge_clauses
from core.plugins.manager import PluginManager, PluginSettings
from core.plugins.types import ContractRequest, Signer
from core.schedule import LoanTerms, Method, build_schedule
from core.schedule.apr import schedule_apr

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNING_TIME = datetime(2026, 1, 15, 10, 30, tzinfo=SHANGHAI)
BUILTINS = ("plugins.local_esign", "plugins.sandbox_bank", "plugins.reports")


def make_manager(config: dict | None = None, clock=lambda: SIGNING_TIME) -> PluginManager:
    settings = PluginSettings(load_entrypoints=False, plugin_config=config or {}, default_timeout=30.0)
    manager = PluginManager(settings, clock=clock)
    manager.load(BUILTINS)
    return manager


@pytest.fixture
def manager() -> PluginManager:
    """The three reference plugins, loaded as the app loads built-ins, on a clock stopped at SIGNING_TIME."""
    return make_manager()


BORROWER = Signer(role="borrower", name="张三丰", identifier="110105194912310021")
LENDER = Signer(role="lender", name="示例小额贷款有限公司", identifier="91110000100000000X")


def contract_request(contract_id: str = "LF-2026-000123") -> ContractRequest:
    """12,000 CNY at 18% a year over 12 months, 等额本息, from 2026-01-15.

    The level installment is 12000 × 0.015 × 1.015^12 / (1.015^12 − 1) = 1,100.16 (numpy-financial
    ``pmt(0.015, 12, -12000)`` = 1100.1599); eleven of them and a last of 1,100.19 carry 1,201.95 of
    interest in all. Equal monthly periods make the APR equal to the nominal 18.00%.
    """
    terms = LoanTerms(principal=Decimal("12000"), annual_rate=Decimal("0.18"), periods=12,
                      start_date=date(2026, 1, 15), method=Method.EQUAL_INSTALLMENT)
    schedule = build_schedule(terms)
    rows = [{"period": i.period, "due_date": i.due_date, "principal": i.principal, "interest": i.interest,
             "fee": i.fee, "total": i.total, "remaining_principal": i.remaining_principal}
            for i in schedule.installments]
    return ContractRequest(
        contract_id=contract_id, template="personal_loan",
        terms={"amount": Decimal("12000"), "annual_rate": Decimal("0.18"), "apr": schedule_apr(schedule).apr,
               "term": 12, "term_unit": "month", "method": "equal_installment", "start_date": date(2026, 1, 15),
               "product_name": "随借随还消费贷", "schedule": rows,
               "charges": [{"code": c.code, "heading": c.heading, "text": c.text}
                           for c in charge_clauses(Contract(terms))]},
        borrower=BORROWER, lender=LENDER)
