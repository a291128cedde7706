"""The double-entry ledger: chart of accounts, immutable journal, per-loan balances, trial balance.

Post with :func:`post` (one event, idempotent by key) or :func:`post_many` (set-based batches), correct
with :func:`reverse`; read balances with :func:`loan_balances` (from the journal) or the
:class:`LoanBalance` projection, kept in step by every post and rebuilt by :func:`rebuild_projection`.
Nothing here commits: the caller owns the transaction.
"""

from core.ledger import accounts
from core.ledger.accounts import CHART, LOAN_BUCKETS, Account, cash_clearing
from core.ledger.errors import IdempotencyConflictError, ImmutableLedgerError, ReversalError, UnbalancedEntryError
from core.ledger.models import JournalEntry, LoanBalance, Posting
from core.ledger.posting import Line, NewEntry, PostManyResult, post, post_many, reverse
from core.ledger.projection import (
    LoanBalances,
    ProjectionDifference,
    apply_deltas,
    compare_projection,
    loan_balances,
    projected_balances,
    rebuild_projection,
)
from core.ledger.reports import TrialBalance, TrialBalanceRow, trial_balance

__all__ = [
    "CHART",
    "LOAN_BUCKETS",
    "Account",
    "IdempotencyConflictError",
    "ImmutableLedgerError",
    "JournalEntry",
    "Line",
    "LoanBalance",
    "LoanBalances",
    "NewEntry",
    "PostManyResult",
    "Posting",
    "ProjectionDifference",
    "ReversalError",
    "TrialBalance",
    "TrialBalanceRow",
    "UnbalancedEntryError",
    "accounts",
    "apply_deltas",
    "cash_clearing",
    "compare_projection",
    "loan_balances",
    "post",
    "post_many",
    "projected_balances",
    "rebuild_projection",
    "reverse",
    "trial_balance",
]
