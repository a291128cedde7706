"""Non-accrual (停止计息入账): a non-performing loan's interest and penalty stay out of income until paid.

The policy (:class:`NonAccrualPolicy`, dated configuration) puts a loan on non-accrual once it is more than
``after_days`` days past due (default 90), and back on accrual once it is ``cure_at_days`` or fewer days past
due (default 0: fully current again). The rule is one invariant, restored at the end of every closed day
(:func:`core.loans.daily.close_day`, and so after every servicing operation, which reclassifies the loan by
that rule):

    a loan on non-accrual holds *all* of its interest and penalty receivable in suspense, a loan on accrual none.

Suspense is a pair of contra-asset accounts (1137 interest, 1138 penalty, per loan) beside the receivables,
mirrored off-balance (表外) on the memo accounts 7001 and 7002 against 7009. Restoring the invariant posts
the difference between the receivable and what is held in suspense, and so:

* entering non-accrual reverses the accrued unpaid interest and penalty out of income
  (Dr 6011/6012, Cr 1137/1138) and records them off-balance (Dr 7001/7002, Cr 7009);
* each later day's accrual and penalty is posted as ever (Dr 1132/1134, Cr 6011/6012) and suspended the same
  day, so the day's income from the loan nets to zero and only the memo grows;
* cash applied to interest or penalty lowers the receivable, so the suspense is released into income
  (Dr 1137/1138, Cr 6011/6012; memo Dr 7009, Cr 7001/7002): income is recognised when cash is applied;
  a penalty waiver lowers it the same way, and its release offsets the waiver's debit to penalty income;
* a cured loan releases whatever it still holds into income (it is collectible again);
* a write-off releases the suspense against the loss (:func:`write_off_lines`), so the loss is the principal
  and fees, never income that was not recognised.

The borrower's balances (``loan_balances``) do not change: the loan still owes the interest. Each movement
is a two-line entry of its own (step ``nonaccrual_interest``, ``memo_interest``, ``nonaccrual_penalty``,
``memo_penalty``), as the set-based end-of-day (:mod:`core.eod.nonaccrual`) posts it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dated import in_force
from core.errors import InvalidArgumentError
from core.ledger.accounts import (
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    INTEREST_SUSPENDED,
    MEMO_CONTRA,
    MEMO_INTEREST,
    MEMO_PENALTY,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    PENALTY_SUSPENDED,
)
from core.ledger.models import Posting
from core.ledger.posting import Line, NewEntry

ZERO = Decimal(0)
EVENT = "non_accrual"


@dataclass(frozen=True)
class NonAccrualPolicy:
    """When a loan goes on non-accrual (more than ``after_days`` past due) and comes back (``cure_at_days``
    or fewer), in force from ``effective_from``.

    Raises:
        InvalidArgumentError: a threshold is negative or the cure is not below the entry (field ``non_accrual``).
    """

    effective_from: date
    source: str
    after_days: int = 90
    cure_at_days: int = 0

    def __post_init__(self) -> None:
        if self.cure_at_days < 0 or self.after_days <= self.cure_at_days:
            raise InvalidArgumentError(
                f"non_accrual: need 0 <= cure_at_days < after_days (got {self.cure_at_days}, {self.after_days})",
                field="non_accrual", value=(self.after_days, self.cure_at_days))

    def on_non_accrual(self, was: bool, days_past_due: int) -> bool:
        """Whether a loan is on non-accrual after a day at ``days_past_due``, having been (``was``) or not."""
        return days_past_due > self.cure_at_days if was else days_past_due > self.after_days


DEFAULT_NON_ACCRUAL = (
    NonAccrualPolicy(date(2023, 7, 1), "贷款损失准备计提指引 / industry practice: interest over 90 days past due "
                                       "is not recognised (verify)"),
)


def non_accrual_on(policies: Sequence[NonAccrualPolicy], on: date) -> NonAccrualPolicy:
    """The policy in force on ``on`` (:func:`core.dated.in_force`; field ``non_accrual``)."""
    return in_force(policies, on, "non_accrual")


@dataclass(frozen=True)
class Component:
    """One of the two amounts non-accrual suspends: its receivable, income, suspense and memo accounts."""

    name: str
    receivable: str
    income: str
    suspended: str
    memo: str


INTEREST = Component("interest", INTEREST_RECEIVABLE, INTEREST_INCOME, INTEREST_SUSPENDED, MEMO_INTEREST)
PENALTY = Component("penalty", PENALTY_RECEIVABLE, PENALTY_INCOME, PENALTY_SUSPENDED, MEMO_PENALTY)
COMPONENTS = (INTEREST, PENALTY)


def movement(entries: Sequence[NewEntry], account: str) -> Decimal:
    """The net debit the ``entries`` post to ``account``."""
    return sum((line.debit - line.credit for entry in entries for line in entry.lines if line.account == account),
               ZERO)


def suspense_entries(loan_id: int, on: date, key: Callable[[str], str], deltas: Mapping[Component, Decimal],
                     ) -> list[NewEntry]:
    """The entries moving each component's suspense by its delta (positive: more suspended, out of income;
    negative: released into income), with the memo following."""
    entries = []
    for component, delta in deltas.items():
        if not delta:
            continue
        amount = abs(delta)
        into = delta > 0
        contra = ([Line.dr(component.income, amount), Line.cr(component.suspended, amount)] if into
                  else [Line.dr(component.suspended, amount), Line.cr(component.income, amount)])
        memo = ([Line.dr(component.memo, amount), Line.cr(MEMO_CONTRA, amount)] if into
                else [Line.dr(MEMO_CONTRA, amount), Line.cr(component.memo, amount)])
        entries.append(NewEntry(key(f"nonaccrual_{component.name}"), EVENT, on, tuple(contra), loan_id))
        entries.append(NewEntry(key(f"memo_{component.name}"), EVENT, on, tuple(memo), loan_id))
    return entries


def release_lines(session: Session, loan_id: int, into: str | None = None) -> list[Line]:
    """Lines releasing all a closing loan holds in suspense (and its memo): into each component's income when
    ``into`` is ``None`` (a loan paid off: the cash was applied), or against the account ``into`` (a write-off's
    loss, which then counts only what was recognised). Empty for a loan holding nothing."""
    lines = []
    for _, component, amount in suspended_balances(session, [loan_id]):
        if amount:
            lines += [Line.dr(component.suspended, amount), Line.cr(into or component.income, amount),
                      Line.dr(MEMO_CONTRA, amount), Line.cr(component.memo, amount)]
    return lines


@dataclass
class AccrualState:
    """A loan's non-accrual status and the balances the rule needs, as end-of-day reads them.

    ``since`` is the date the loan went on non-accrual (``None``: on accrual); ``receivable`` and
    ``suspended`` hold, per component, the receivable balance and the amount held in suspense, before the
    day's entries. :func:`close_non_accrual` brings them to the end of the day in place.
    """

    since: date | None = None
    receivable: dict[Component, Decimal] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, ZERO))
    suspended: dict[Component, Decimal] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, ZERO))


def close_non_accrual(loan_id: int, on: date, policy: NonAccrualPolicy, key: Callable[[str], str],
                      days_past_due: int, state: AccrualState, day_entries: Sequence[NewEntry]) -> list[NewEntry]:
    """The end of ``on`` for one loan's non-accrual (module docstring): the status after the day's days past
    due, and the entries restoring the invariant after ``day_entries`` (the day's other entries).

    ``state`` is updated in place (its status, receivables and suspense after the day).
    """
    for component in COMPONENTS:
        state.receivable[component] += movement(day_entries, component.receivable)
    on_non_accrual = policy.on_non_accrual(state.since is not None, days_past_due)
    if on_non_accrual != (state.since is not None):
        state.since = on if on_non_accrual else None
    deltas = {}
    for component in COMPONENTS:
        target = max(state.receivable[component], ZERO) if on_non_accrual else ZERO
        deltas[component] = target - state.suspended[component]
        state.suspended[component] = target
    return suspense_entries(loan_id, on, key, deltas)


def suspended_balances(session: Session, loan_ids: Sequence[int]) -> list[tuple[int, Component, Decimal]]:
    """What each of ``loan_ids`` holds in suspense, per component (credit minus debit of its postings on the
    suspense accounts, read by the postings' (loan, account) index; summed in Python on SQLite)."""
    by_account = {component.suspended: component for component in COMPONENTS}
    sums: dict[tuple[int, str], Decimal] = {}
    rows = session.execute(select(Posting.loan_id, Posting.account, Posting.debit, Posting.credit).where(
        Posting.loan_id.in_(list(loan_ids)), Posting.account.in_(list(by_account))))
    for loan_id, account, debit, credit in rows:
        sums[(loan_id, account)] = sums.get((loan_id, account), ZERO) + credit - debit
    return [(loan_id, by_account[account], held) for (loan_id, account), held in sums.items()]
