"""The double-entry ledger: chart of accounts, immutable journal, per-loan balances, trial balance.

Post with :func:`post` (one event, idempotent by key) or :func:`post_many` (set-based batches), correct
with :func:`reverse`; read a loan's balances with :func:`loan_balances`, which serves the
:class:`LoanBalance` projection every post keeps in step. The journal proves it: :func:`journal_balances`
sums a loan's postings, :func:`compare_projection` lists where the two differ and
:func:`rebuild_projection` rewrites the projection from the journal.
Nothing here commits: the caller owns the transaction.
"""

from core.ledger import accounts
from core.ledger.accounts import CHART, LOAN_BUCKETS, Account, cash_clearing
from core.ledger.errors import IdempotencyConflictError, ImmutableLedgerError, ReversalError, UnbalancedEntryError
from core.ledger.models import JournalEntry, LoanBalance, Posting
from core.ledger.posting import Line, NewEntry, PostManyResult, post, post_many, reverse
from core.ledger.projection import (
    LoanBalances,
    LoanRange,
    ProjectionDifference,
    apply_deltas,
    compare_projection,
    journal_balances,
    loan_balances,
    projection_ranges,
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
    "LoanRange",
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
    "journal_balances",
    "loan_balances",
    "post",
    "post_many",
    "projection_ranges",
    "rebuild_projection",
    "reverse",
    "trial_balance",
]
