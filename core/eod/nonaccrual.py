"""Non-accrual in SQL for the loans the set-based end-of-day closed: :mod:`core.loans.nonaccrual`'s rule, set-based.

After the day's accrual, fees and penalty of the SQL path's loans are posted (their ``loan_balances`` rows
hold the day's receivables), :func:`close_non_accrual_in_sql` does for those loans what
:func:`core.loans.nonaccrual.close_non_accrual` does at the end of :func:`core.loans.daily.close_day`:

1. the status after the day: a loan on accrual goes on non-accrual when more than ``after_days`` past due,
   a loan on non-accrual comes back at ``cure_at_days`` or fewer (``loans.days_past_due`` is the day's,
   set by :mod:`core.eod.overdue` before);
2. per component (interest 1137, penalty 1138) the suspense it must hold, its whole receivable on
   non-accrual and nothing on accrual, less what its postings on the suspense account hold now (read by the
   postings' (loan, account) index, for these few loans only): the delta;
3. the deltas posted under the Python rule's keys and lines through :func:`core.ledger.set_posting.post_pairs`:
   ``nonaccrual_<component>`` (Dr income / Cr suspense, or the reverse to release) and ``memo_<component>``
   (Dr memo / Cr 7009, or the reverse), event ``non_accrual``;
4. ``loans.non_accrual_since`` set to the date for the loans going on non-accrual, cleared for those cured.

Only loans on non-accrual or more than ``after_days`` past due are read; a quiet loan (0 days past due, on
accrual) never is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.eod.sql_keys import entry_key
from core.ledger.accounts import MEMO_CONTRA
from core.ledger.set_posting import post_pairs
from core.loans.nonaccrual import COMPONENTS, EVENT, NonAccrualPolicy

_CANDIDATES = """
CREATE TEMP TABLE {status} ON COMMIT DROP AS
SELECT l.id AS loan_id, COALESCE(s.generation, 0) AS generation, l.non_accrual_since AS since,
       CASE WHEN l.non_accrual_since IS NULL THEN l.days_past_due > :after
            ELSE l.days_past_due > :cure END AS flagged,
       b.interest, b.penalty
FROM {loans} q
JOIN loans l ON l.id = q.id
JOIN loan_balances b ON b.loan_id = q.id
LEFT JOIN loan_servicing_states s ON s.loan_id = q.id
WHERE l.id BETWEEN :lo AND :hi AND (l.non_accrual_since IS NOT NULL OR l.days_past_due > :after)
"""

_DELTAS = """
CREATE TEMP TABLE {deltas} ON COMMIT DROP AS
SELECT n.loan_id, n.generation, c.name,
       CASE WHEN n.flagged THEN greatest(c.receivable, 0) ELSE 0 END - COALESCE(h.held, 0) AS delta
FROM {status} n
CROSS JOIN LATERAL (VALUES {components}) AS c (name, receivable, account)
CROSS JOIN LATERAL (SELECT sum(p.credit - p.debit) AS held FROM ledger_postings p
                    WHERE p.loan_id = n.loan_id AND p.account = c.account) h
"""

_SOURCE = """
CREATE TEMP TABLE {source} ON COMMIT DROP AS
SELECT loan_id, {key}, abs(delta) AS amount FROM {deltas}
WHERE name = :name AND delta {sign} 0
"""

_STATUS = """
UPDATE loans l SET non_accrual_since = CASE WHEN n.flagged THEN CAST(:on AS date) END
FROM {status} n
WHERE l.id = n.loan_id AND n.flagged <> (n.since IS NOT NULL)
"""


@dataclass(frozen=True)
class NonAccrualResult:
    """Loans the step read, how many changed status, and the entries it posted."""

    loans: int
    moved: int
    entries: int


def close_non_accrual_in_sql(session: Session, on: date, lo: int, hi: int, *, loans: str, policy: NonAccrualPolicy,
                             number: int) -> NonAccrualResult:
    """Non-accrual of ``on`` for the loans of ``lo..hi`` listed in the table ``loans`` (column ``id``), after
    their day's other entries (module docstring); PostgreSQL only."""
    status, deltas = f"eod_nonaccrual_{number}", f"eod_nonaccrual_deltas_{number}"
    params = {"on": on, "day": on.isoformat(), "lo": lo, "hi": hi, "after": policy.after_days,
              "cure": policy.cure_at_days}
    read = session.execute(text(_CANDIDATES.format(status=status, loans=loans)), params)
    count = int(read.rowcount)  # type: ignore[attr-defined]
    if not count:
        session.execute(text(f"DROP TABLE {status}"))
        return NonAccrualResult(0, 0, 0)
    components = ", ".join(f"('{c.name}', n.{c.name}, '{c.suspended}')" for c in COMPONENTS)
    session.execute(text(_DELTAS.format(deltas=deltas, status=status, components=components)))
    posted = 0
    for component in COMPONENTS:
        for sign, into in ((">", True), ("<", False)):
            for step, debit, credit in (
                    (f"nonaccrual_{component.name}", component.income, component.suspended),
                    (f"memo_{component.name}", component.memo, MEMO_CONTRA)):
                source = f"eod_nonaccrual_{step}_{'in' if into else 'out'}_{number}"
                made = session.execute(text(_SOURCE.format(source=source, key=entry_key(step), deltas=deltas,
                                                           sign=sign)), {**params, "name": component.name})
                if made.rowcount:  # type: ignore[attr-defined]
                    posted += post_pairs(session, source, event=EVENT, business_date=on,
                                         debit=debit if into else credit, credit=credit if into else debit).inserted
                session.execute(text(f"DROP TABLE {source}"))
    moved = session.execute(text(_STATUS.format(status=status)), params)
    session.execute(text(f"DROP TABLE {status}, {deltas}"))
    return NonAccrualResult(count, int(moved.rowcount), posted)  # type: ignore[attr-defined]
