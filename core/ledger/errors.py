"""The ledger's refusals."""

from __future__ import annotations

from decimal import Decimal

from core.errors import LoanFactoryError


class UnbalancedEntryError(LoanFactoryError):
    """An entry's debits and credits differ; ``residual`` is debits minus credits."""

    def __init__(self, key: str, residual: Decimal) -> None:
        super().__init__(f"lines: entry {key!r} does not balance: debits - credits = {residual}",
                         field="lines", value=residual)
        self.key = key
        self.residual = residual


class IdempotencyConflictError(LoanFactoryError):
    """An idempotency key that already posted is posted again with different event, loan, date or lines."""


class ImmutableLedgerError(LoanFactoryError):
    """Something tried to change or delete a journal entry or posting; correct with a reversing entry."""


class ReversalError(LoanFactoryError):
    """An entry cannot be reversed: it is a reversal itself, or another key has already reversed it."""
