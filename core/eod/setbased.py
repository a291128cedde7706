"""The common case of end-of-day in SQL: loans whose day brings only interest accrual and due dates.

Most open loans on most days only accrue interest, and on its due date an installment falls due: nothing
is overdue, no penalty is carried, no money waits in suspense, and the classification stays 正常/M0. For
those loans :func:`accrue_quiet_loans` does in a few set-based statements on PostgreSQL what
:func:`core.loans.daily.close_day` does loan by loan, with the same figures to the fen:

1. lock the ``loan_balances`` rows of the id range (``FOR UPDATE``: a servicing operation locks its loan's
   balance row before anything else, :func:`core.loans.context.locked_loan`, so an operation in flight
   is waited for and none starts on these loans until the commit), then pick, in a statement of its own
   (so it sees what those operations committed), the *quiet* loans: ``active``, 0 days past due, M0, 正常,
   maturity after the date, no suspense, a known rounding mode (``loans.rounding``, copied from the terms
   when they are set), no unsettled installment due before the date (an installment due or overdue has
   such a date, and so has a degenerate period ending before it starts), and none due on the date but
   ``pending``, and on accrual (a loan on non-accrual at 0 days past due cures today) — everything else keeps
   the Python rule. Their ``loans`` rows are read, never locked nor
   written: a row lock writes the row's page, and the 838-byte rows of a million loans are 100,000 pages
   the WAL would carry whole after each checkpoint and the checkpointer write back every night;
2. bring each started period to its cumulative target ``round(I × elapsed / days)`` (:mod:`core.loans.accrual`)
   in exact integer arithmetic: ``n = I·10⁴·elapsed``, ``d = days·100``, then ``n/d`` fen rounded by
   the contract's mode (``half_up``, ``half_even``, ``down``, ``up``), so the accruals of a period add up
   to its scheduled interest exactly as in Python;
3. post each loan's day total as one ``eod_accrual`` entry under the same idempotency key
   (``eod:<date>:accrual:<loan>[:g<generation>]``) through :func:`core.ledger.set_posting.post_pairs`;
4. the installments due on the date become ``due``, and each loan's per-period fees of them are
   recognised as one ``eod_fee`` entry (``eod:<date>:fee:<loan>[:g<generation>]``; none when they are 0).
   Their loans stay ``active`` and 0 days past due: an installment is late from the day after its date.

Then the non-accrual of the steadily overdue ones (:mod:`core.eod.nonaccrual`).

The steadily overdue loans of the range (:mod:`core.eod.overdue`) are picked before step 2 and join the
quiet loans' table, so their running period accrues in the same statement (and an overdue installment not
yet fully accrued catches up, as in Python). The table is left for the Python rule to skip its loans
(:func:`quiet_table`).
SQLite stores amounts as text, so there the Python rule closes every loan; the results are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count

from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.orm import Session

from core.eod.nonaccrual import NonAccrualResult, close_non_accrual_in_sql
from core.eod.overdue import OverdueResult, charge_steady_overdue
from core.eod.sql_keys import entry_key, generation_of
from core.ledger.accounts import FEE_INCOME, FEE_RECEIVABLE, INTEREST_INCOME, INTEREST_RECEIVABLE
from core.ledger.set_posting import post_pairs
from core.loans.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy, bucket
from core.loans.models import FiveTier
from core.loans.nonaccrual import DEFAULT_NON_ACCRUAL, NonAccrualPolicy
from core.rounding import Rounding

_NAMES = count(1)
#: the key steps and events of a day's accrual and fee entries, as :func:`core.loans.daily.close_day` names them
ACCRUAL_STEP, ACCRUAL_EVENT = "accrual", "eod_accrual"
FEE_STEP, FEE_EVENT = "fee", "eod_fee"

_LOCK = """
CREATE TEMP TABLE {locked} ON COMMIT DROP AS
SELECT loan_id, suspense FROM loan_balances WHERE loan_id BETWEEN :lo AND :hi ORDER BY loan_id FOR UPDATE
"""

_QUIET = """
CREATE TEMP TABLE {quiet} ON COMMIT DROP AS
SELECT l.id, l.rounding
FROM {locked} k
JOIN loans l ON l.id = k.loan_id
LEFT JOIN (SELECT DISTINCT loan_id FROM loan_installments
           WHERE loan_id BETWEEN :lo AND :hi AND due_date <= :on AND status IN ('pending', 'due', 'overdue')
             AND (due_date < :on OR status <> 'pending')) busy
       ON busy.loan_id = l.id
WHERE l.id BETWEEN :lo AND :hi AND l.state = 'active' AND l.disbursed_on < :on AND l.maturity_date > :on
  AND l.days_past_due = 0 AND l.bucket = :bucket AND l.five_tier = :tier AND l.non_accrual_since IS NULL
  AND k.suspense <= 0
  AND busy.loan_id IS NULL AND l.rounding IN ({modes})
ORDER BY l.id
"""

_ROUNDED = {  # n / d rounded to an integer, n >= 0, d > 0
    Rounding.DOWN: "div(n, d)",
    Rounding.UP: "div(n + d - 1, d)",
    Rounding.HALF_UP: "div(2 * n + d, 2 * d)",
    Rounding.HALF_EVEN: ("div(n, d) + CASE WHEN 2 * mod(n, d) > d OR (2 * mod(n, d) = d AND mod(div(n, d), 2) = 1) "
                         "THEN 1 ELSE 0 END"),
}
_MODES = ", ".join(f"'{mode.value}'" for mode in _ROUNDED)
_TARGET = "CASE q.rounding " + " ".join(f"WHEN '{mode.value}' THEN {sql}" for mode, sql in _ROUNDED.items()) + " END"

_ACCRUE = f"""
CREATE TEMP TABLE {{amounts}} ON COMMIT DROP AS
WITH targets AS (
    SELECT i.ctid AS tid, q.id AS loan_id, COALESCE(s.generation, 0) AS generation, i.interest_accrued,
           ({_TARGET}) * 0.01 AS target
    FROM {{quiet}} q JOIN loan_installments i ON i.loan_id = q.id
    LEFT JOIN loan_servicing_states s ON s.loan_id = q.id AND s.loan_id BETWEEN :lo AND :hi
    CROSS JOIN LATERAL (SELECT i.interest * 10000 * (CAST(:on AS date) - i.start) AS n,
                               (i.due_date - i.start) * 100 AS d) f
    WHERE i.loan_id BETWEEN :lo AND :hi AND i.start < :on AND i.status IN ('pending', 'due', 'overdue')
      AND i.interest_accrued < i.interest
),
moved AS (
    UPDATE loan_installments i SET interest_accrued = t.target FROM targets t
    WHERE i.ctid = t.tid AND t.target > t.interest_accrued
    RETURNING t.loan_id, t.generation, t.target - t.interest_accrued AS amount
)
SELECT loan_id, {entry_key(ACCRUAL_STEP)}, sum(amount) AS amount
FROM moved GROUP BY loan_id, generation
"""

_FALL_DUE = f"""
CREATE TEMP TABLE {{fallen}} ON COMMIT DROP AS
WITH fallen AS (
    UPDATE loan_installments i SET status = 'due' FROM {{quiet}} q
    WHERE i.loan_id = q.id AND i.loan_id BETWEEN :lo AND :hi AND i.due_date = :on AND i.status = 'pending'
    RETURNING i.loan_id, i.fee
)
SELECT f.loan_id, {entry_key(FEE_STEP)}, f.amount
FROM (SELECT loan_id, sum(fee) AS amount FROM fallen GROUP BY loan_id) f
{generation_of("f.loan_id")}
"""


@dataclass(frozen=True)
class QuietResult:
    """The quiet loans of a range (their ids are in ``table``): how many accrued and the accrual entries
    posted, how many had installments fall due and the fee entries posted."""

    table: Table
    loans: int
    accrued: int
    accruals: int
    fallen_due: int
    fees: int
    overdue: OverdueResult
    non_accrual: NonAccrualResult


def quiet_table(name: str) -> Table:
    """The temporary table of quiet loan ids, as a :class:`Table` for queries that skip them."""
    return Table(name, MetaData(), Column("id", Integer, primary_key=True))


def compress_full_page_images(session: Session) -> str | None:
    """Ask for compressed full-page images in the WAL for the rest of the transaction; returns the method set.

    After each checkpoint the first change of a page writes the whole page to the WAL, and a night rewrites
    every open loan's installment and balance pages: on the benchmark book those images are two thirds of a
    night's WAL, and with the server's default settings the volume itself brings the next checkpoint (and
    the next round of images) sooner. Compressed with ``lz4`` (``pglz`` where the server lacks it), a night
    wrote 2.1 GB of WAL and took 4 checkpoints instead of 3.4 GB and 6.

    Nothing is changed (``None``) when the server already compresses them (its own choice is kept) or the
    role may not set ``wal_compression``: a superuser, or from PostgreSQL 15 a role granted
    ``SET ON PARAMETER wal_compression``, may.
    """
    version = session.get_bind().dialect.server_version_info or (0,)
    allowed = ("has_parameter_privilege('wal_compression', 'SET')" if version >= (15,)
               else "current_setting('is_superuser') = 'on'")
    return session.execute(text(
        "SELECT set_config('wal_compression', CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE 'pglz' END, true) "
        f"FROM pg_settings WHERE name = 'wal_compression' AND setting = 'off' AND {allowed}")).scalar()


def accrue_quiet_loans(session: Session, on: date, lo: int, hi: int,
                       policy: ClassificationPolicy = DEFAULT_CLASSIFICATION[0],
                       non_accrual: NonAccrualPolicy = DEFAULT_NON_ACCRUAL[0]) -> QuietResult:
    """Close ``on`` in SQL for the quiet loans with ids ``lo..hi``, and the steadily overdue ones
    (:mod:`core.eod.overdue`, classified by ``policy``, then their non-accrual by ``non_accrual``,
    :mod:`core.eod.nonaccrual`); PostgreSQL only (module docstring)."""
    number = next(_NAMES)
    locked, quiet = f"eod_locked_{number}", f"eod_quiet_{number}"
    amounts, fallen = f"eod_accrual_{number}", f"eod_fees_{number}"
    params = {"on": on, "day": on.isoformat(), "lo": lo, "hi": hi}
    # for the rest of this transaction: no JIT (compiling these plans costs seconds and saves nothing), no
    # parallel workers (the end-of-day's own workers use the cores; a gather only adds hand-offs), and sorts
    # of a partition's rows in memory
    session.execute(text("SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', "
                         "true), set_config('work_mem', '64MB', true)"))
    compress_full_page_images(session)
    session.execute(text(_LOCK.format(locked=locked)), params)
    session.execute(text(f"ANALYZE {locked}"))
    selected = session.execute(text(_QUIET.format(locked=locked, quiet=quiet, modes=_MODES)),
                               {**params, "bucket": bucket(0), "tier": FiveTier.NORMAL.value})
    overdue = charge_steady_overdue(session, on, lo, hi, locked=locked, quiet=quiet, modes=_MODES, policy=policy,
                                    number=number)
    session.execute(text(f"ANALYZE {quiet}"))
    session.execute(text(_ACCRUE.format(quiet=quiet, amounts=amounts, step=ACCRUAL_STEP)), params)
    accrued = post_pairs(session, amounts, event=ACCRUAL_EVENT, business_date=on, debit=INTEREST_RECEIVABLE,
                         credit=INTEREST_INCOME)
    due = session.execute(text(_FALL_DUE.format(quiet=quiet, fallen=fallen)), params)
    session.execute(text(f"DELETE FROM {fallen} WHERE amount = 0"))
    fees = post_pairs(session, fallen, event=FEE_EVENT, business_date=on, debit=FEE_RECEIVABLE, credit=FEE_INCOME)
    suspended = close_non_accrual_in_sql(session, on, lo, hi, loans=quiet, policy=non_accrual, number=number)
    session.execute(text(f"DROP TABLE {locked}, {amounts}, {fallen}"))
    return QuietResult(quiet_table(quiet), int(selected.rowcount), accrued.wanted,  # type: ignore[attr-defined]
                       accrued.inserted, int(due.rowcount), fees.inserted, overdue,  # type: ignore[attr-defined]
                       suspended)
