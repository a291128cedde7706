"""The published products as a channel sees them: limits, required applicant data, and request checks.

An :class:`Offer` is one published product version (its id and the :class:`~core.products.product.Product`
reading its document) plus the questions selling adds: which applicant fields and collateral the product
requires, and whether a request fits (:meth:`Offer.check_request` returns every problem, each naming its
field). Limits, rates, fees and schedules are the product's own accessors.

The document is trusted: it passed the product validator before it was published, so the accessors
read it without re-checking its shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from core.money import MoneyInputError, parse_money, to_decimal
from core.products.product import Product

#: the applicant fields every individual application carries
BASE_APPLICANT_FIELDS = ("name", "id_number", "phone", "monthly_income", "bank_account")
#: consents every application needs: the credit-bureau query (征信业管理条例 Art. 18) and the processing
#: of personal information (PIPL Art. 29, separate consent for sensitive data)
REQUIRED_CONSENTS = ("credit_bureau_query", "personal_information")


@dataclass(frozen=True, eq=False)
class Offer:
    """One published product version, ready to quote and sell; ``product`` reads its document.

    ``version_id`` is the version's row; ``number`` the version number every face shows (the code's 1, 2, ...),
    ``None`` only for an offer made outside the catalogue (a migration's, a test's) that has none.
    """

    version_id: int
    product: Product
    number: int | None = None

    @classmethod
    def of(cls, version_id: int, document: Mapping[str, Any], number: int | None = None) -> Offer:
        return cls(version_id=version_id, product=Product(document), number=number)

    @property
    def code(self) -> str:
        return self.product.code

    @property
    def document(self) -> Mapping[str, Any]:
        return self.product.document

    @property
    def name(self) -> dict[str, str]:
        return {"zh": self.product.name_zh, "en": self.product.name_en}

    @property
    def currency(self) -> str:
        return self.product.currency

    @cached_property
    def terms(self) -> tuple[int, ...]:
        """Every allowed term, ascending."""
        return tuple(self.product.terms())

    @cached_property
    def methods(self) -> tuple[str, ...]:
        return tuple(m.value for m in self.product.methods)

    @property
    def collateral(self) -> dict[str, Any]:
        return dict(self.document.get("collateral") or {"required": False})

    @property
    def collateral_required(self) -> bool:
        return bool(self.collateral.get("required"))

    @cached_property
    def collateral_types(self) -> dict[str, Decimal]:
        """Accepted collateral type -> maximum loan-to-value."""
        return {t["type"]: to_decimal(t["max_ltv"], "max_ltv") for t in self.collateral.get("types", [])}

    @property
    def eligibility(self) -> dict[str, Any]:
        return dict(self.document.get("eligibility") or {})

    @property
    def required_applicant_fields(self) -> tuple[str, ...]:
        """The applicant fields this product needs: the base ones, plus existing monthly debt payments
        when the product caps the debt-to-income ratio."""
        fields = list(BASE_APPLICANT_FIELDS)
        if self.eligibility.get("max_dti") is not None:
            fields.append("monthly_debt_payments")
        return tuple(fields)

    @property
    def approval_steps(self) -> list[dict[str, Any]]:
        return list(self.document.get("approval") or [])

    @property
    def plugins(self) -> dict[str, Any]:
        return dict(self.document.get("plugins") or {})

    def amount_problem(self, amount: Decimal) -> str | None:
        """Why ``amount`` is refused, or ``None``."""
        limits = self.product.amount
        if amount < limits.min:
            return f"must be at least {limits.min}"
        if amount > limits.max:
            return f"must be at most {limits.max}"
        if not limits.contains(amount):
            return f"must be {limits.min} plus a whole number of steps of {limits.step}"
        return None

    def check_request(self, amount: Any, term: Any, method: Any) -> list[tuple[str, str]]:
        """Every problem of a requested amount, term and method, as ``(field, message)`` pairs."""
        problems: list[tuple[str, str]] = []
        try:
            value = parse_money(amount, "amount", positive=True)
        except MoneyInputError as error:
            problems.append(("amount", error.reason))
        else:
            reason = self.amount_problem(value)
            if reason:
                problems.append(("amount", reason))
        if isinstance(term, bool) or not isinstance(term, int):
            problems.append(("term", f"must be a whole number of {self.product.term_unit}s"))
        elif term not in self.terms:
            problems.append(("term", f"must be one of the product's terms ({self.describe_terms()})"))
        if method not in self.methods:
            problems.append(("method", f"must be one of {', '.join(self.methods)}"))
        return problems

    def describe_terms(self) -> str:
        unit = self.product.term_unit
        term = self.document["term"]
        if term.get("values"):
            return ", ".join(str(t) for t in self.terms) + f" {unit}s"
        return f"{term['min']} to {term['max']} {unit}s in steps of {term.get('step', 1)}"
