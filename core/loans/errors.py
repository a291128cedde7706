"""The refusals of servicing operations, one subclass per rule.

Each names the field at fault (``amount``, ``loan_id``, ``repayment_id``...) so the API can point at it
and the CLI can name the option.
"""

from __future__ import annotations

from core.errors import LoanFactoryError, StoredRecordError, WrongStateError


class ServicingError(LoanFactoryError):
    """Base of the servicing refusals."""


class LoanNotServiceableError(ServicingError):
    """The loan's state does not allow the operation (repaying a written-off loan, disbursing twice...)."""


class AmountExceedsOutstandingError(ServicingError):
    """An amount is larger than what it applies to (a waiver above the penalty owed, a partial prepayment
    that would repay everything, a refund above the suspense balance)."""


class PrepaymentNotAllowedError(ServicingError):
    """A partial prepayment was asked while installments are overdue, or the product forbids prepayment."""


class PrepaymentTooEarlyError(PrepaymentNotAllowedError, WrongStateError):
    """A prepayment dated before the contract's window opens (:func:`core.loans.prepayment.prepayment_opens_on`,
    field ``on``); a state of the loan, not a bad input, so the API answers 409."""


class QuoteChangedError(ServicingError, WrongStateError):
    """A prepayment confirms a quoted total the loan's quote no longer is (an end-of-day ran, a repayment
    arrived since the quote; field ``quoted_total``): quote again."""


class RepaymentNotReversibleError(ServicingError):
    """The repayment to reverse does not exist for this loan, or was reversed already."""


class StoredContractError(StoredRecordError):
    """A loan's stored contract (``Loan.terms``) lacks a key or holds a value that does not parse; ``field``
    names it (``terms.schedule.annual_rate``). Raised by :meth:`core.loans.contract.Contract.from_json`, and so
    by setting ``Loan.terms`` to such a document and by the end-of-day reading one."""


class MoneyLeftHeldError(ServicingError):
    """A full prepayment would close the loan with overpayment suspense still held for the borrower (cash
    brought beyond the quote, or suspense beyond it) and the caller did not choose to keep it for a refund
    (field ``keep_for_refund``)."""
