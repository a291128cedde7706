"""Quotes: the schedule, APR and total cost of a requested amount, term and method under a product.

A quote is priced at the product's default rate (risk-based pricing applies after scoring, in the
decision) from a start date the caller gives (today in the channel's time zone, by default). Nothing is
stored: a quote is a pure function of the published version and the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.money import parse_money
from core.origination.catalog import Offer
from core.origination.errors import RequestProblems
from core.schedule import Schedule
from core.schedule.apr import schedule_apr


@dataclass(frozen=True)
class Quote:
    """A priced request: the offer it came from, the schedule and its APR."""

    offer: Offer
    schedule: Schedule
    apr: Decimal
    effective_annual_rate: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: money as strings, dates ISO 8601, rates as decimal strings (0.12 = 12%)."""
        terms = self.schedule.terms
        return {
            "product_code": self.offer.code,
            "product_version": self.offer.number,
            "amount": str(terms.principal),
            "term": terms.periods,
            "term_unit": self.offer.product.term_unit,
            "method": terms.method.value,
            "annual_rate": str(terms.annual_rate),
            "apr": str(self.apr),
            "effective_annual_rate": str(self.effective_annual_rate),
            "start_date": terms.start_date.isoformat(),
            "maturity_date": self.schedule.maturity_date.isoformat(),
            "upfront_fee": str(terms.upfront_fee),
            "total_interest": str(self.schedule.total_interest),
            "total_fees": str(self.schedule.total_fees),
            "total_cost": str(self.schedule.total_interest + self.schedule.total_fees),
            "total_payable": str(self.schedule.total_payable),
            "currency": self.offer.currency,
            "installments": [
                {"period": i.period, "due_date": i.due_date.isoformat(), "principal": str(i.principal),
                 "interest": str(i.interest), "fee": str(i.fee), "total": str(i.total),
                 "remaining_principal": str(i.remaining_principal)}
                for i in self.schedule.installments
            ],
        }


def quote(offer: Offer, amount: Any, term: Any, method: Any, start_date: date,
          annual_rate: Decimal | None = None) -> Quote:
    """Price ``amount`` over ``term`` by ``method`` under ``offer``.

    Raises:
        RequestProblems: the amount, term or method is outside the product (every problem listed).
    """
    problems = offer.check_request(amount, term, method)
    if problems:
        raise RequestProblems(problems)
    schedule = offer.product.schedule(parse_money(amount, positive=True), term, method, start_date, annual_rate)
    apr = schedule_apr(schedule)
    return Quote(offer=offer, schedule=schedule, apr=apr.apr, effective_annual_rate=apr.effective_annual_rate)
