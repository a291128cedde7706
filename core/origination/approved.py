"""The approved offer: what the lender offers an application, fixed once when it is approved.

An :class:`ApprovedOffer` is a frozen record: the :class:`~core.loans.contract.Contract` offered (the schedule's
terms priced at the applicant's risk band from the approval date, and the product version's servicing rules,
:func:`servicing_rules`), the term in the product's unit, the APR, first installment and total payable the
borrower was quoted, and the deadline to accept; once the borrower accepts, also when and who
(:meth:`ApprovedOffer.accept`). :func:`core.origination.pipeline.approve` writes it into ``Application.offer``
(:func:`record_offer`); acceptance, expiry, the contract document and booking read it back (:func:`offer_of`).
The document prints the contract from the day it is drawn up and the loan books it from the settlement date
(:meth:`~core.loans.contract.Contract.starting`): neither derives anything from the product again.

:meth:`ApprovedOffer.to_json` is the one serialiser of the stored form and :meth:`ApprovedOffer.from_json`
its one parser:

.. code-block:: json

    {"contract": {"schedule": {...}, "penalty": {...}, "allocation": {...}, "prepayment": {...}},
     "term": 6, "term_unit": "month", "apr": "0.123456", "first_installment": "862.89",
     "total_payable": "5177.34", "expires_at": "2026-11-30T10:00:00+00:00",
     "accepted_at": null, "accepted_by": null}

``contract`` is the loan contract's own stored form. Every key is required (``null`` until accepted): a
missing or unparsable one raises :class:`~core.origination.errors.StoredOfferError` naming it
(``offer.contract.schedule.annual_rate``). Nothing falls back to the product's default rate. The channel API
shows the offer in the application's ``decision`` under the keys it always had (:meth:`ApprovedOffer.decision_fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.applications.models import Application
from core.errors import InvalidArgumentError
from core.loans.allocation import AllocationOrder, Component
from core.loans.contract import Contract, ServicingRules
from core.loans.fees import ContractFee, LateFeeRule, PrepaymentRules
from core.loans.penalty import PenaltyPolicy
from core.origination.catalog import Offer
from core.origination.errors import StoredOfferError
from core.origination.quotes import Quote
from core.records import RecordReader
from core.schedule import Method


@dataclass(frozen=True)
class ApprovedOffer:
    """What was offered (and, once accepted, when and by whom); amounts and rates exact.

    Args:
        contract: the loan contract offered; its schedule starts on the approval date.
        term: the term in ``term_unit`` (a quarterly product's 12 months are 4 periods of the schedule).
        term_unit: the product's unit: ``month``, ``week`` or ``day``.
        apr: the APR of the schedule quoted at approval.
        first_installment: what the first installment of that schedule is.
        total_payable: everything that schedule has the borrower pay, upfront fee included.
        expires_at: the borrower must accept before this time.
        accepted_at, accepted_by: when and by whom the offer was accepted (``None`` before).

    Raises:
        InvalidArgumentError: a time without its offset (field ``expires_at`` or ``accepted_at``): the
            stored form keeps the offset, and the parser refuses a time without one.
    """

    contract: Contract
    term: int
    term_unit: str
    apr: Decimal
    first_installment: Decimal
    total_payable: Decimal
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: str | None = None

    def __post_init__(self) -> None:
        for name in ("expires_at", "accepted_at"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise InvalidArgumentError(f"{name}: a time with its offset (UTC or local), not {moment}",
                                           field=name, value=moment)

    @classmethod
    def priced(cls, quoted: Quote, term: int, rules: ServicingRules, expires_at: datetime) -> ApprovedOffer:
        """The offer of a quote priced at the approved rate, under ``rules``, open until ``expires_at``."""
        schedule = quoted.schedule
        return cls(Contract(schedule.terms, rules), term, quoted.offer.product.term_unit, quoted.apr,
                   schedule.installments[0].total, schedule.total_payable, expires_at)

    @property
    def amount(self) -> Decimal:
        return self.contract.terms.principal

    @property
    def annual_rate(self) -> Decimal:
        return self.contract.terms.annual_rate

    @property
    def method(self) -> Method:
        return self.contract.terms.method

    def contract_from(self, start: date) -> Contract:
        """The offered contract with its schedule starting on ``start``."""
        return self.contract.starting(start)

    def expired(self, now: datetime) -> bool:
        """Whether the deadline to accept passed before ``now`` (an accepted offer never expires)."""
        return self.accepted_at is None and self.expires_at < now

    def accept(self, *, at: datetime, by: str) -> ApprovedOffer:
        """The offer accepted at ``at`` by ``by``."""
        return replace(self, accepted_at=at, accepted_by=by)

    def decision_fields(self) -> dict[str, Any]:
        """The offer as the channel API's ``decision`` shows it (money and rates as strings, times ISO)."""
        fields: dict[str, Any] = {
            "approved_amount": str(self.amount), "annual_rate": str(self.annual_rate), "apr": str(self.apr),
            "term": self.term, "method": self.method.value, "first_installment": str(self.first_installment),
            "total_payable": str(self.total_payable), "offer_expires_at": self.expires_at.isoformat()}
        if self.accepted_at is not None:
            fields.update(accepted_at=self.accepted_at.isoformat(), accepted_by=self.accepted_by)
        return fields

    def to_json(self) -> dict[str, Any]:
        """The stored form (module docstring)."""
        return {"contract": self.contract.to_json(), "term": self.term, "term_unit": self.term_unit,
                "apr": str(self.apr), "first_installment": str(self.first_installment),
                "total_payable": str(self.total_payable), "expires_at": self.expires_at.isoformat(),
                "accepted_at": None if self.accepted_at is None else self.accepted_at.isoformat(),
                "accepted_by": self.accepted_by}

    @classmethod
    def from_json(cls, stored: object) -> ApprovedOffer:
        """The offer :meth:`to_json` stored.

        Raises:
            StoredOfferError: a key is missing or its value does not parse (``field`` names it).
        """
        reader = RecordReader(stored, "offer", StoredOfferError)
        return cls(Contract.read(reader.section("contract")), reader.integer("term"), reader.text("term_unit"),
                   reader.decimal("apr"), reader.decimal("first_installment"), reader.decimal("total_payable"),
                   reader.moment("expires_at"), reader.optional_moment("accepted_at"),
                   reader.optional_text("accepted_by"))


def contract_fees(offer: Offer, when: str) -> tuple[ContractFee, ...]:
    """The product version's fees charged ``when`` (``on_prepayment``, ``late``), as the contract states them."""
    return tuple(ContractFee(f.code, f.name_zh, f.basis, f.value) for f in offer.product.fees(when))


def servicing_rules(offer: Offer, method: str) -> ServicingRules:
    """The penalty, allocation, prepayment and late-fee rules a loan of ``offer`` (a product version) repaid by
    ``method`` is serviced under (a bullet loan counts its prepayment window in the product's term unit)."""
    document = offer.document
    penalty = document.get("penalty") or {}
    prepayment = document.get("prepayment") or {}
    return ServicingRules(
        penalty=PenaltyPolicy(multiplier=Decimal(str(penalty.get("multiplier", "1.5"))),
                              daily_rate=(Decimal(str(penalty["daily_rate"])) if penalty.get("mode") == "daily_rate"
                                          else None),
                              compound=bool(penalty.get("compound", False)),
                              grace_days=offer.product.overdue_grace_days),
        allocation=AllocationOrder(tuple(Component(name) for name in offer.product.allocation_order)),
        prepayment=PrepaymentRules(allowed=bool(prepayment.get("allowed", True)),
                                   fees=contract_fees(offer, "on_prepayment"),
                                   earliest_period=int(prepayment.get("earliest_period", 1)),
                                   earliest_unit=offer.product.term_unit if method == "bullet" else "installment"),
        late_fees=LateFeeRule(contract_fees(offer, "late")),
    )


def record_offer(application: Application, offer: ApprovedOffer) -> None:
    """Store ``offer`` as the application's (at approval, and again once accepted)."""
    application.offer = offer.to_json()


def offer_if_any(application: Application) -> ApprovedOffer | None:
    """The application's offer, or ``None`` when it was never approved.

    Raises:
        StoredOfferError: the stored offer is damaged.
    """
    return None if application.offer is None else ApprovedOffer.from_json(application.offer)


def offer_of(application: Application) -> ApprovedOffer:
    """The application's offer.

    Raises:
        StoredOfferError: it has none (field ``offer``), or the stored offer is damaged.
    """
    if application.offer is None:
        raise StoredOfferError(f"offer: application {application.id} ({application.state}) has no approved offer",
                               field="offer", value=application.id)
    return ApprovedOffer.from_json(application.offer)
