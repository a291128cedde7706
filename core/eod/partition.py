"""Closing a day for a set of loans, chunk by chunk: read a chunk, apply the rule, write it set-based.

:func:`close_loans` is the unit of work a partition (a range of loan ids) or a single loan (servicing
bringing a loan to date, the replay after a reversal) runs. It never loops over loans with a query or a
transaction each: every chunk of up to ``chunk`` loan ids costs three reads and a handful of bulk writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from core.eod.daily import KeyMaker, close_day
from core.eod.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy, policy_on
from core.eod.rows import load_loans, write_results

DEFAULT_CHUNK = 20_000


@dataclass(frozen=True)
class CloseResult:
    """How many loans a close touched and how many journal entries it posted."""

    loans: int = 0
    entries: int = 0

    def __add__(self, other: CloseResult) -> CloseResult:
        return CloseResult(self.loans + other.loans, self.entries + other.entries)


def eod_keys(on: date, loan_id: int, generation: int) -> KeyMaker:
    """Idempotency keys of a loan's end-of-day entries: ``eod:<date>:<step>:<loan>[:g<generation>]``."""
    suffix = f":g{generation}" if generation else ""
    return lambda step: f"eod:{on.isoformat()}:{step}:{loan_id}{suffix}"


def close_loans(session: Session, on: date, *, lo: int | None = None, hi: int | None = None,
                loan_ids: Sequence[int] | None = None,
                policies: Sequence[ClassificationPolicy] = DEFAULT_CLASSIFICATION,
                chunk: int = DEFAULT_CHUNK, keys: KeyMaker | None = None, actor: str = "eod") -> CloseResult:
    """Close ``on`` for the open loans with ids ``lo..hi`` (or in ``loan_ids``).

    Args:
        keys: the key maker for every loan (servicing passes its own); default :func:`eod_keys`.
    """
    policy = policy_on(policies, on)
    total = CloseResult()
    start = lo
    while True:
        if loan_ids is not None:
            loaded = load_loans(session, on, loan_ids=loan_ids)
        else:
            assert start is not None and hi is not None
            loaded = load_loans(session, on, lo=start, hi=hi, limit=chunk)
        results = [(close_day(loan, rows, on, policy, keys or eod_keys(on, loan.id, generation)), rows)
                   for loan, generation, rows in loaded]
        total += CloseResult(len(loaded), write_results(session, on, results, actor=actor))
        if loan_ids is not None or len(loaded) < chunk:
            return total
        start = loaded[-1][0].id + 1
