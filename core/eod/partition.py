"""Closing a day for a set of loans, chunk by chunk: read a chunk, apply the rule, write it set-based.

:func:`close_loans` is the unit of work a partition (a range of loan ids) or a single loan (servicing
bringing a loan to date, the replay after a reversal) runs. It never loops over loans with a query or a
transaction each: on PostgreSQL the quiet loans of a range (those that only accrue interest today) are
closed in a few set-based statements (:mod:`core.eod.setbased`); the others are read in chunks of up to
``chunk`` loans, each costing three reads and a handful of bulk writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Table
from sqlalchemy.orm import Session
from sqlalchemy.schema import DropTable

from core.eod.setbased import accrue_quiet_loans
from core.loans.daily import DayResult, InstallmentRow, KeyMaker, LoanRow, close_day, eod_keys
from core.loans.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy, policy_on
from core.loans.nonaccrual import DEFAULT_NON_ACCRUAL, NonAccrualPolicy, non_accrual_on
from core.loans.rows import load_loans, write_results

DEFAULT_CHUNK = 20_000


#: the sub-steps of closing a day (:func:`core.loans.daily.close_day`), in order
SUB_STEPS = ("fall_due", "accrual", "suspense", "penalty", "late_fee", "classify", "non_accrual")
_STEP_OF_EVENT = {"eod_fee": "fall_due", "eod_accrual": "accrual", "suspense_applied": "suspense",
                  "eod_penalty": "penalty", "eod_late_fee": "late_fee", "non_accrual": "non_accrual"}


@dataclass(frozen=True)
class CloseResult:
    """How many loans a close touched and how many journal entries it posted, in all and per sub-step.

    ``steps`` maps a sub-step (:data:`SUB_STEPS`) to ``(loans it changed, entries it posted)``.
    """

    loans: int = 0
    entries: int = 0
    steps: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __add__(self, other: CloseResult) -> CloseResult:
        steps = {}
        for step in SUB_STEPS:
            (loans, entries), (more_loans, more_entries) = self.step(step), other.step(step)
            steps[step] = (loans + more_loans, entries + more_entries)
        return CloseResult(self.loans + other.loans, self.entries + other.entries, steps)

    def step(self, name: str) -> tuple[int, int]:
        """``(loans changed, entries posted)`` by sub-step ``name``."""
        return self.steps.get(name, (0, 0))


def close_loans(session: Session, on: date, *, lo: int | None = None, hi: int | None = None,
                loan_ids: Sequence[int] | None = None,
                policies: Sequence[ClassificationPolicy] = DEFAULT_CLASSIFICATION,
                non_accrual: Sequence[NonAccrualPolicy] = DEFAULT_NON_ACCRUAL,
                chunk: int = DEFAULT_CHUNK, keys: KeyMaker | None = None, actor: str = "eod",
                set_based: bool | None = None) -> CloseResult:
    """Close ``on`` for the open loans with ids ``lo..hi`` (or in ``loan_ids``).

    Args:
        keys: the key maker for every loan (servicing passes its own); default :func:`eod_keys`.
        non_accrual: the dated non-accrual policies (:mod:`core.loans.nonaccrual`); the one in force on ``on``.
        set_based: close the quiet loans of ``lo..hi`` in SQL (:mod:`core.eod.setbased`); default: on
            PostgreSQL for an id range with the default keys. ``False`` runs the Python rule for every loan
            (same results; the comparison tests use it).
    """
    policy, suspend = policy_on(policies, on), non_accrual_on(non_accrual, on)
    total = CloseResult()
    if set_based is None:
        set_based = loan_ids is None and keys is None and session.get_bind().dialect.name == "postgresql"
    skip: Table | None = None
    if set_based:
        assert lo is not None and hi is not None, "the SQL path closes an id range"
        quiet = accrue_quiet_loans(session, on, lo, hi, policy, suspend)
        overdue, suspended = quiet.overdue, quiet.non_accrual
        total += CloseResult(quiet.loans + overdue.loans,
                             quiet.accruals + quiet.fees + overdue.penalties + suspended.entries,
                             {"accrual": (quiet.accrued, quiet.accruals), "fall_due": (quiet.fallen_due, quiet.fees),
                              "penalty": (overdue.charged, overdue.penalties), "classify": (overdue.reclassified, 0),
                              "non_accrual": (suspended.moved, suspended.entries)})
        skip = quiet.table
    if loan_ids is not None:
        for begin in range(0, len(loan_ids), chunk):
            total += _close_chunk(session, on, load_loans(session, on, loan_ids=loan_ids[begin:begin + chunk]),
                                  policy, suspend, keys, actor)
        return total
    assert lo is not None and hi is not None
    while True:
        loaded = load_loans(session, on, lo=lo, hi=hi, limit=chunk, skip=skip)
        total += _close_chunk(session, on, loaded, policy, suspend, keys, actor)
        if len(loaded) < chunk:
            break
        lo = loaded[-1][0].id + 1
    if skip is not None:
        session.execute(DropTable(skip))
    return total


def _close_chunk(session: Session, on: date, loaded: list[tuple[LoanRow, int, list[InstallmentRow]]],
                 policy: ClassificationPolicy, suspend: NonAccrualPolicy, keys: KeyMaker | None,
                 actor: str) -> CloseResult:
    results = [(close_day(loan, rows, on, policy, keys or eod_keys(on, loan.id, generation), suspend), rows)
               for loan, generation, rows in loaded]
    steps = _step_counts(results)
    return CloseResult(len(loaded), write_results(session, on, results, actor=actor), steps)


def _step_counts(results: list[tuple[DayResult, list[InstallmentRow]]]) -> dict[str, tuple[int, int]]:
    """Per sub-step, the loans it changed and the entries it built (read before the rows are written)."""
    loans, entries = dict.fromkeys(SUB_STEPS, 0), dict.fromkeys(SUB_STEPS, 0)
    for result, rows in results:
        touched = {_STEP_OF_EVENT[entry.event] for entry in result.entries}
        for entry in result.entries:
            entries[_STEP_OF_EVENT[entry.event]] += 1
        if any("status" in row.changed and row.status in ("due", "overdue") for row in rows):
            touched.add("fall_due")
        if result.loan_changes or result.transition:
            touched.add("classify")
        for step in touched:
            loans[step] += 1
    return {step: (loans[step], entries[step]) for step in SUB_STEPS}
