"""Credit-line products (额度类产品): the ``credit_line`` section read, checked, and its drawdowns priced.

A product of kind ``credit_line`` grants a limit that is drawn on many times; each drawdown is a loan of the
same product version, so the rest of the document (``amount`` as one drawdown's range, ``term``, the
repayment methods, the rate and its risk bands, the fees with ``upfront`` ones charged on every drawdown)
describes the drawdowns. :class:`LineTerms` reads the section. A line may also offer daily-interest
drawdowns (随借随还): a bullet in days at the product's rate and day count, repayable on any day with interest
to that day; :func:`daily_product` is the product those drawdowns are loans of (the document with the term
in days, the bullet method and daily frequency), so quoting, booking and the APR proof use the same code as
every loan. :func:`daily_term` turns the line's repayment-date rule into a drawdown's number of days.

:func:`check_credit_line` returns the problems a schema cannot see, each with its JSON pointer; the APR
proof of a credit line (:func:`prove_drawdowns`) prices every drawdown the line allows: the instalment
drawdowns through the ordinary proof, and each day count of a daily-interest drawdown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from core.errors import InvalidArgumentError
from core.money import to_decimal
from core.products.problems import Problem, pointer
from core.products.product import Product, Range
from core.products.proof import AprProof, prove_apr_cap
from core.products.semantic import check_range

Document = Mapping[str, Any]
#: the pseudo-method a channel names to draw with daily interest (随借随还)
DAILY_INTEREST = "daily_interest"


def is_credit_line(document: Document) -> bool:
    """Whether the product grants credit lines (``kind`` ``credit_line``)."""
    return bool(document.get("kind", "loan") == "credit_line")


@dataclass(frozen=True)
class LineTerms:
    """The ``credit_line`` section of a product, typed.

    Attributes:
        limit: the range of limits a grant may give.
        validity_months: months from the grant to expiry.
        revolving: whether repaid principal can be drawn again.
        daily_max_days: the longest daily-interest drawdown, ``None`` when none is offered.
        daily_rule: ``chosen_days`` or ``fixed_day`` (with ``repayment_day`` and ``min_days``).
        renewal: ``none`` or ``review``.
    """

    limit: Range
    validity_months: int
    revolving: bool
    daily_max_days: int | None
    daily_rule: str | None
    repayment_day: int | None
    min_days: int
    renewal: str

    @classmethod
    def of(cls, product: Product) -> LineTerms:
        """The section of ``product``.

        Raises:
            InvalidArgumentError: the product is not a credit line (field ``kind``).
        """
        if not is_credit_line(product.document):
            raise InvalidArgumentError(f"kind: {product.code} is not a credit-line product", field="kind",
                                       value=product.document.get("kind", "loan"))
        section = product.document["credit_line"]
        limit = section["limit"]
        daily = section.get("daily_interest") or {}
        return cls(Range(_dec(limit["min"]), _dec(limit["max"]), _dec(limit["default"]), _dec(limit["step"])),
                   int(section["validity_months"]), bool(section["revolving"]),
                   int(daily["max_days"]) if daily else None, daily.get("repayment_day_rule"),
                   daily.get("repayment_day"), int(daily.get("min_days", 1)), str(section["renewal"]["mode"]))

    def expires_on(self, granted_on: date) -> date:
        """The last day a line granted on ``granted_on`` may be drawn on (the day before the anniversary)."""
        anniversary: date = granted_on + relativedelta(months=self.validity_months)
        return anniversary - timedelta(days=1)


def daily_term(line: LineTerms, drawn_on: date, chosen_days: int | None) -> int:
    """The days a daily-interest drawdown made on ``drawn_on`` runs under the line's repayment-date rule.

    ``chosen_days`` is the borrower's choice under ``chosen_days`` (ignored under ``fixed_day``, where the
    drawdown falls due on the next ``repayment_day`` at least ``min_days`` away).

    Raises:
        InvalidArgumentError: no daily-interest drawdown is offered, or the choice is missing or out of range
            (field ``term``).
    """
    if line.daily_max_days is None:
        raise InvalidArgumentError("method: this line offers no daily-interest drawdown", field="method",
                                   value=DAILY_INTEREST)
    if line.daily_rule == "fixed_day":
        assert line.repayment_day is not None
        due = drawn_on.replace(day=line.repayment_day)
        while (due - drawn_on).days < line.min_days:
            due += relativedelta(months=1)
        return (due - drawn_on).days
    if chosen_days is None or isinstance(chosen_days, bool) or not 1 <= chosen_days <= line.daily_max_days:
        raise InvalidArgumentError(f"term: a daily-interest drawdown runs 1 to {line.daily_max_days} days",
                                   field="term", value=chosen_days)
    return chosen_days


def daily_product(product: Product) -> Product:
    """The product a daily-interest drawdown of ``product``'s line is a loan of: the same document with the
    term in days (1 to the line's longest), the bullet method, daily frequency and the same-day rule."""
    section = product.document["credit_line"]["daily_interest"]
    longest = int(section["max_days"])
    repayment = product.document["repayment"]
    document = {**product.document,
                "term": {"unit": "day", "min": 1, "max": longest, "step": 1, "default": longest},
                "repayment": {"methods": ["bullet"], "frequency": "daily", "due_day_rule": "same_day",
                              "rounding": repayment.get("rounding", "half_up")},
                "prepayment": {**product.document["prepayment"], "earliest_period": 1, "partial_allowed": True}}
    return Product(document)


def prove_drawdowns(product: Product) -> AprProof:
    """The APR proof over every drawdown the line allows: the worse of the instalment drawdowns' proof and,
    when offered, the daily-interest drawdowns' (every day count from 1 to the longest).

    Raises:
        InvalidArgumentError, AprNotConvergedError: as :func:`~core.products.proof.prove_apr_cap`.
    """
    proofs = [prove_apr_cap(product)]
    if product.document["credit_line"].get("daily_interest"):
        proofs.append(prove_apr_cap(daily_product(product)))
    worst = max(proofs, key=lambda proof: proof.worst.bound)
    return AprProof(worst.cap, worst.basis, sum(p.cases for p in proofs), worst.worst)


def check_credit_line(document: Document) -> Iterator[Problem]:
    """The credit-line rules a schema cannot say: the kind and its section go together, the limit range is
    sound and can hold a drawdown, the per-customer credit limit can hold a grant, and the daily-interest
    drawdown's repayment-date rule is complete."""
    section = document.get("credit_line")
    if not is_credit_line(document):
        if section is not None:
            yield Problem(pointer("credit_line"), "credit_line.not_a_line", "只有 kind 为 credit_line 的产品可设置额度",
                          "only a product of kind credit_line has a credit_line section")
        return
    if section is None:
        yield Problem(pointer("credit_line"), "credit_line.missing", "额度类产品须设置 credit_line",
                      "a product of kind credit_line needs its credit_line section")
        return
    limit = section["limit"]
    problems = list(check_range(limit, "credit_line", "limit", what="limit", what_zh="额度"))
    yield from problems
    for key in ("min", "max", "step", "default"):
        value = limit[key]
        if isinstance(value, Decimal) and value.as_tuple().exponent < -2:  # type: ignore[operator]
            yield Problem(pointer("credit_line", "limit", key), "money.fen", f"金额 {value} 超过两位小数",
                          f"the amount {value} has more than two decimals (fen)")
    if problems:
        return
    yield from _limit_problems(document, limit)
    daily = section.get("daily_interest")
    if daily is not None:
        yield from _daily_problems(daily)


def _limit_problems(document: Document, limit: Mapping[str, Any]) -> Iterator[Problem]:
    lowest_drawdown, largest_drawdown = _dec(document["amount"]["min"]), _dec(document["amount"]["max"])
    if _dec(limit["max"]) < lowest_drawdown:
        yield Problem(pointer("credit_line", "limit", "max"), "credit_line.limit_below_drawdown",
                      f"最高额度 {limit['max']} 小于最小支用金额 {lowest_drawdown}，无法支用",
                      f"the largest limit {limit['max']} is below the smallest drawdown {lowest_drawdown}")
    if largest_drawdown > _dec(limit["max"]):
        yield Problem(pointer("amount", "max"), "credit_line.drawdown_above_limit",
                      f"单笔最高支用 {largest_drawdown} 超过最高额度 {limit['max']}",
                      f"the largest drawdown {largest_drawdown} exceeds the largest limit {limit['max']}")
    per_customer = _dec(document["credit_limits"]["max_outstanding_per_customer"])
    if per_customer < _dec(limit["min"]):
        yield Problem(pointer("credit_limits", "max_outstanding_per_customer"), "credit_line.customer_limit_below_line",
                      f"单户最高余额 {per_customer} 小于最低额度 {limit['min']}，无法授信",
                      f"the customer limit {per_customer} is below the smallest line {limit['min']}: "
                      "no line could be granted")


def _daily_problems(daily: Mapping[str, Any]) -> Iterator[Problem]:
    at = ("credit_line", "daily_interest")
    if daily["repayment_day_rule"] == "fixed_day":
        if "repayment_day" not in daily:
            yield Problem(pointer(*at, "repayment_day"), "credit_line.repayment_day_missing",
                          "固定还款日规则须设置还款日", "repayment_day_rule fixed_day needs a repayment_day")
        # the next repayment day at least min_days away is at most min_days + 31 days off
        longest_wait = int(daily.get("min_days", 1)) + 31
        if int(daily["max_days"]) < longest_wait:
            yield Problem(pointer(*at, "max_days"), "credit_line.max_days_below_cycle",
                          f"固定还款日规则下支用最长可达 {longest_wait} 天，最长天数须不少于此",
                          f"under fixed_day a drawdown can run {longest_wait} days; max_days must allow that")
    else:
        for key in ("repayment_day", "min_days"):
            if key in daily:
                yield Problem(pointer(*at, key), "credit_line.unused_field",
                              f"chosen_days 规则不使用 {key}", f"{key} is not used with repayment_day_rule chosen_days")


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else to_decimal(value, "value")
