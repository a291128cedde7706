"""The schedule's value types: :class:`Installment` rows and the :class:`Schedule` that holds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from core.schedule.terms import LoanTerms


class Installment(NamedTuple):
    """One row of a schedule; amounts are rounded to the fen.

    ``start`` is the day interest for this period starts to run (the previous due date, or the
    disbursement or prepayment date); ``total`` is principal + interest + fee.
    """

    period: int
    start: date
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal
    remaining_principal: Decimal


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule: the terms it was built from and its installments, oldest first."""

    terms: LoanTerms
    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), Decimal(0))

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), Decimal(0))

    @property
    def total_fees(self) -> Decimal:
        """Per-period fees plus the upfront fee."""
        return sum((i.fee for i in self.installments), self.terms.upfront_fee)

    @property
    def total_payable(self) -> Decimal:
        """Everything the borrower pays: installments plus the upfront fee."""
        return sum((i.total for i in self.installments), self.terms.upfront_fee)

    @property
    def maturity_date(self) -> date:
        return self.installments[-1].due_date
