"""End-of-day in SQL for loans that stay overdue: the day's penalty and days past due, set-based.

A loan *steadily overdue* on a date is ``overdue`` with nothing happening to it today but the passing of the
day: no installment falls due or turns from ``due`` to ``overdue``, no money waits in suspense, no
installment is written off, none is charged its late fees today (:mod:`core.loans.late_fees`), the penalty of
the date is not charged yet, it matures after the date, and each overdue installment bears penalty at a rate
the database can compute exactly as Python does (below).
For those loans :func:`charge_steady_overdue` does what :func:`core.loans.daily.close_day` does loan by loan
(the interest accrual of their running period is the quiet loans' statement, :mod:`core.eod.setbased`):

1. each overdue installment's penalty (:func:`core.loans.penalty.charge_penalties`): its carried remainder
   plus ``base × rate numerator × chargeable days`` (base the unpaid principal, plus the unpaid interest with
   复利; the days by the grace rule), the whole fen of that over the rate's divisor (``div``, exact integer
   division) booked on the installment, the remainder carried; each loan's fen posted as one ``eod_penalty``
   entry, ``eod:<date>:penalty:<loan>[:g<generation>]``, and ``penalty_through`` set to the date;
2. days past due from the oldest unsettled overdue installment, the bucket and the five-tier class of the
   policy in force (the loan stays ``overdue``; its days only grow, so the policy's upgrade rule never applies).

Exactly as Python: the rate fraction of each (annual rate, penalty setting, day count) is computed in Python
by :meth:`~core.loans.penalty.PenaltyPolicy.rate_fraction`; a loan takes this path only when that numerator
came out exact with at most 10 significant digits and 12 decimals, and its overdue bases are under 10^9.
Then no step of Python's arithmetic (28 significant digits) rounds, and PostgreSQL's exact ``numeric`` gives
the same digits. Other loans (such rates, huge bases) keep the Python rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, Inexact, localcontext

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.eod.sql_keys import entry_key, generation_of
from core.ledger.accounts import PENALTY_INCOME, PENALTY_RECEIVABLE
from core.ledger.set_posting import post_pairs
from core.loans.contract import SQL_DAY_COUNT, SQL_LATE_FEE_COUNT, SQL_PENALTY, day_count_of_text, penalty_of_text
from core.loans.delinquency import ClassificationPolicy
from core.loans.errors import StoredContractError
from core.loans.models import FiveTier
from core.loans.penalty import PenaltyPolicy

PENALTY_STEP, PENALTY_EVENT = "penalty", "eod_penalty"
#: the largest rate numerator the SQL path takes: 10 significant digits, 12 decimals (module docstring)
RATE_DIGITS, RATE_DECIMALS = 10, 12
#: the largest overdue base (unpaid principal, plus interest with 复利) the SQL path takes
BASE_LIMIT = 10**9

_UNSETTLED = ("(i.principal <> i.paid_principal OR i.interest <> i.paid_interest OR i.fee <> i.paid_fee "
              "OR i.penalty <> i.paid_penalty + i.waived_penalty)")
_SETTING = f"l.annual_rate = r.annual_rate AND {SQL_PENALTY} = r.penalty AND {SQL_DAY_COUNT} = r.day_count"
_BASE = "(i.principal - i.paid_principal) + CASE WHEN r.compound THEN i.interest - i.paid_interest ELSE 0 END"

#: a steady loan's overdue installments: its own rows, found by the loan's index entries, then filtered. The
#: ``OFFSET 0`` keeps the status and date conditions out of the lookup: a planner misled by statistics from
#: before anything was overdue would otherwise go through the ``(due_date, status)`` index, reading every
#: overdue installment of the book for each partition (or, per loan, for each loan)
_LATE_ROWS = ("SELECT * FROM (SELECT i.ctid AS tid, i.* FROM loan_installments i WHERE i.loan_id = r.id OFFSET 0) i "
              f"WHERE i.status = 'overdue' AND i.due_date < :on AND {_UNSETTLED}")

_SETTINGS = f"""
SELECT DISTINCT l.annual_rate, {SQL_PENALTY}, {SQL_DAY_COUNT}
FROM loans l WHERE l.id BETWEEN :lo AND :hi AND l.state = 'overdue'
"""

_STEADY = f"""
CREATE TEMP TABLE {{steady}} ON COMMIT DROP AS
SELECT l.id, l.rounding, r.rate, r.divisor, r.compound, r.grace, r.retroactive
FROM {{locked}} k
JOIN loans l ON l.id = k.loan_id
JOIN {{rates}} r ON {_SETTING}
LEFT JOIN loan_servicing_states s ON s.loan_id = l.id AND s.loan_id BETWEEN :lo AND :hi
WHERE l.id BETWEEN :lo AND :hi AND l.state = 'overdue' AND l.disbursed_on < :on AND l.maturity_date > :on
  AND l.rounding IN ({{modes}}) AND k.suspense <= 0
  AND (s.penalty_through IS NULL OR s.penalty_through < :on)
  AND NOT EXISTS (SELECT 1 FROM loan_installments i WHERE i.loan_id = l.id AND (
          (i.status IN ('pending', 'due') AND i.due_date <= :on) OR i.status = 'written_off'
          OR (i.status = 'overdue' AND {_UNSETTLED} AND {_BASE} >= {BASE_LIMIT})
          OR (i.status = 'overdue' AND {_UNSETTLED} AND i.late_fee = 0 AND :on - i.due_date > r.grace
              AND {SQL_LATE_FEE_COUNT} > 0)))
  AND EXISTS (SELECT 1 FROM loan_installments i WHERE i.loan_id = l.id AND i.status = 'overdue'
              AND i.due_date < :on AND {_UNSETTLED})
ORDER BY l.id
FOR UPDATE OF l
"""

_CHARGE = f"""
CREATE TEMP TABLE {{charged}} ON COMMIT DROP AS
WITH due AS (
    SELECT i.tid, r.id AS loan_id, r.divisor,
           i.penalty_carry + ({_BASE}) * r.rate
               * CASE WHEN :on - i.due_date <= r.grace THEN 0
                      WHEN :on - i.due_date = r.grace + 1 AND r.retroactive THEN r.grace + 1
                      ELSE 1 END AS total
    FROM {{steady}} r CROSS JOIN LATERAL ({_LATE_ROWS}) i
),
split AS (SELECT d.*, div(d.total * 100, d.divisor) * 0.01 AS posted FROM due d),
booked AS (
    UPDATE loan_installments i SET penalty = i.penalty + d.posted, penalty_carry = d.total - d.posted * d.divisor
    FROM split d WHERE i.ctid = d.tid
    RETURNING d.loan_id, d.posted
)
SELECT b.loan_id, {entry_key(PENALTY_STEP)}, sum(b.posted) AS amount
FROM booked b
{generation_of("b.loan_id")}
GROUP BY b.loan_id, g.generation
"""

_CHARGED_THROUGH = """
INSERT INTO loan_servicing_states (loan_id, penalty_through, generation)
SELECT id, :on, 0 FROM {steady}
ON CONFLICT (loan_id) DO UPDATE SET penalty_through = excluded.penalty_through
"""

_CLASSIFY = """
WITH late AS (
    SELECT r.id, :on - min(i.due_date) AS dpd
    FROM {steady} r CROSS JOIN LATERAL ({late_rows}) i
    GROUP BY r.id
)
UPDATE loans l SET days_past_due = c.dpd, bucket = c.bucket, five_tier = c.tier
FROM (SELECT id, dpd, 'M' || least(7, (dpd - 1) / 30 + 1) AS bucket,
             CASE WHEN dpd > :loss THEN '{loss}' WHEN dpd > :doubtful THEN '{doubtful}'
                  WHEN dpd > :substandard THEN '{substandard}' WHEN dpd > :technical THEN '{special_mention}'
                  ELSE '{normal}' END AS tier
      FROM late) c
WHERE l.id = c.id AND (l.days_past_due, l.bucket, l.five_tier) IS DISTINCT FROM (c.dpd, c.bucket, c.tier)
"""


@dataclass(frozen=True)
class OverdueResult:
    """How many loans were steadily overdue, the penalty entries posted, the loans reclassified."""

    loans: int
    charged: int
    penalties: int
    reclassified: int


def exact_rate_fraction(annual_rate: Decimal, penalty: str | None,
                        day_count: str | None) -> tuple[Decimal, int, PenaltyPolicy] | None:
    """The penalty rate fraction of a loan's settings, as Python computes it, when the SQL path can take it.

    ``penalty`` and ``day_count`` are the contract's as :data:`~core.loans.contract.SQL_PENALTY` and
    :data:`~core.loans.contract.SQL_DAY_COUNT` read them, parsed by the contract's own parsers.
    ``None`` when the numerator is inexact in Python's 28 digits, has more than :data:`RATE_DIGITS`
    significant digits or :data:`RATE_DECIMALS` decimals, or the settings are missing or do not parse (the
    Python rule then refuses the loan's contract, naming the key).
    """
    try:
        policy = penalty_of_text(penalty)
        basis = day_count_of_text(day_count).basis
    except StoredContractError:
        return None
    with localcontext() as context:
        context.traps[Inexact] = True
        try:
            rate, divisor = policy.rate_fraction(annual_rate, basis)
        except Inexact:
            return None
    _sign, digits, exponent = rate.normalize().as_tuple()
    if len(digits) > RATE_DIGITS or not isinstance(exponent, int) or exponent < -RATE_DECIMALS:
        return None
    return rate, divisor, policy


def charge_steady_overdue(session: Session, on: date, lo: int, hi: int, *, locked: str, quiet: str,
                          modes: str, policy: ClassificationPolicy, number: int) -> OverdueResult:
    """Close ``on`` in SQL for the steadily overdue loans of ``lo..hi`` (module docstring), after locking them.

    ``locked`` is the table of the range's balance rows the caller locked (``loan_id``, ``suspense``): a loan
    without one is not taken. The steady loans' ids (and rounding modes) are added to the table ``quiet`` so
    the interest accrual that follows covers them and the Python rule skips them. ``modes`` are the rounding
    modes the accrual knows.
    """
    rates, steady, charged = f"eod_rates_{number}", f"eod_steady_{number}", f"eod_penalties_{number}"
    params = {"on": on, "day": on.isoformat(), "lo": lo, "hi": hi}
    found = []
    for annual_rate, penalty, day_count in session.execute(text(_SETTINGS), params):
        exact = exact_rate_fraction(annual_rate, penalty, day_count)
        if exact is not None:
            rate, divisor, penalties = exact
            found.append({"annual_rate": annual_rate, "penalty": penalty, "day_count": day_count, "rate": rate,
                          "divisor": divisor, "compound": penalties.compound, "grace": penalties.grace_days,
                          "retroactive": penalties.grace_retroactive})
    if not found:
        return OverdueResult(0, 0, 0, 0)
    session.execute(text(f"CREATE TEMP TABLE {rates} (annual_rate numeric, penalty text, day_count text, "
                         "rate numeric, divisor integer, compound boolean, grace integer, retroactive boolean) "
                         "ON COMMIT DROP"))
    session.execute(text(f"INSERT INTO {rates} VALUES (:annual_rate, :penalty, :day_count, :rate, :divisor, "
                         ":compound, :grace, :retroactive)"), found)
    selected = session.execute(text(_STEADY.format(locked=locked, steady=steady, rates=rates, modes=modes)), params)
    loans = int(selected.rowcount)  # type: ignore[attr-defined]
    if not loans:
        session.execute(text(f"DROP TABLE {rates}, {steady}"))
        return OverdueResult(0, 0, 0, 0)
    session.execute(text(f"INSERT INTO {quiet} (id, rounding) SELECT id, rounding FROM {steady}"))
    session.execute(text(_CHARGE.format(steady=steady, charged=charged)), params)
    session.execute(text(f"DELETE FROM {charged} WHERE amount = 0"))
    posted = post_pairs(session, charged, event=PENALTY_EVENT, business_date=on, debit=PENALTY_RECEIVABLE,
                        credit=PENALTY_INCOME)
    session.execute(text(_CHARGED_THROUGH.format(steady=steady)), params)
    tiers = {tier.name.lower(): tier.value for tier in FiveTier}
    moved = session.execute(text(_CLASSIFY.format(steady=steady, late_rows=_LATE_ROWS, **tiers)),
                            {**params, "technical": policy.technical_days, "substandard": policy.substandard_after,
                             "doubtful": policy.doubtful_after, "loss": policy.loss_after})
    session.execute(text(f"DROP TABLE {rates}, {steady}, {charged}"))
    return OverdueResult(loans, posted.wanted, posted.inserted, int(moved.rowcount))  # type: ignore[attr-defined]
