"""Refusals of the origination kernel: channels, quotes, applications and their decisions.

Each error names the field at fault (``field``, dotted for nested request fields such as
``applicant.id_number``) so the channel API can point at it with a JSON pointer.
"""

from __future__ import annotations

from core.errors import (
    FieldProblems,
    InvalidArgumentError,
    LoanFactoryError,
    RecordedRefusal,
    StoredRecordError,
    WrongStateError,
)


class UnknownProductError(LoanFactoryError):
    """No published version exists for the product code asked for (unknown, draft, paused or retired)."""


class ProductPausedError(WrongStateError):
    """The product asked for is paused: it was published and sells again once resumed (field ``code``)."""


class ProductLimitError(InvalidArgumentError):
    """A requested amount, term, method or collateral falls outside the published product's limits."""


class ApplicantDataError(InvalidArgumentError):
    """An applicant field is missing or malformed (ID number checksum, phone, birth date, income...)."""


class ConsentMissingError(InvalidArgumentError):
    """A consent the product needs (credit-bureau query, data sharing, contract terms) was not given."""


class ChannelAuthError(LoanFactoryError):
    """An API key is missing, malformed, unknown or revoked."""


class ChannelScopeError(LoanFactoryError):
    """A channel asked for a product its key is not allowed to sell."""


class NotFoundError(LoanFactoryError):
    """An application, loan or subscription does not exist or belongs to another channel."""


class CreditLimitError(LoanFactoryError):
    """A payout would take the customer past the product's credit limits (live loans, or outstanding
    principal, counting the applications on their way): checked again just before the money leaves."""


class CallbackMismatchError(InvalidArgumentError, RecordedRefusal):
    """A payment channel's settlement callback disagrees with its payout order (field ``amount``: not the
    amount ordered; field ``settled_at``: settled before the order was placed or too far after today). The
    order is flagged for reconciliation (its ``failure`` and an audit event) and nothing is booked."""


class RequestProblems(FieldProblems):
    """An application or quote request has one or more bad fields (:class:`~core.errors.FieldProblems`)."""


class StoredOfferError(StoredRecordError):
    """An application's stored approved offer (``Application.offer``) is missing where the application must
    have one, lacks a key, or holds a value that does not parse; ``field`` names it
    (``offer.contract.schedule.annual_rate``). Raised by :func:`core.origination.approved.offer_of`."""


class ContractMismatchError(RequestProblems):
    """The borrower signs a document other than the one rendered, or under another name (each named); a
    signed contract refuses a second signature that differs from the first in the same way."""
