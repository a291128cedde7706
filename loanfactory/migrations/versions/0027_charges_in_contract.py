"""every charge in the contract: itemised prepayment fees, late fees, exact penalty remainders

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 20:30:00

Three changes, each written here without the live kernel (what it needs is frozen below):

* Stored contracts (``loans.terms``, and ``applications.offer -> contract``) list their prepayment fees
  (``prepayment.fees``, each ``code``, ``name``, ``basis``, ``value``, summed) and their late fees
  (``late_fees``). A contract stored before listed one ``fee_rate`` on the principal prepaid and a ``min_fee``:
  the rate becomes one ``percent_of_outstanding`` fee and ``min_fee`` stays the contract's minimum, so such a loan
  is charged what it was booked with; it had no late fees (its document printed none), so ``late_fees`` is
  empty. Contracts already in the new form are left alone.
* ``loan_installments.late_fee`` records the late fees charged on an installment (0 until charged).
* ``loan_installments.penalty_carry`` holds the remainder of the penalty as a numerator over the rate's day
  divisor (the day-count basis, or 1 for a fixed daily rate), exact: each stored fraction of a fen is
  multiplied by its loan's divisor, and PostgreSQL's column widens to ``NUMERIC(40, 24)`` so it holds every
  remainder exactly. The snapshots servicing events keep for a reversal are converted alike.

The downgrade drops ``late_fee`` and narrows the column back; the contracts keep their new keys.
"""

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the day-count bases of the stored ``schedule.day_count`` values (frozen from ``core.daycount``)
BASES = {"ACT/360": 360, "30/360": 360, "ACT/365F": 365, "ACT/365": 365, "ACT/ACT": 365}
LEGACY_FEE = {"code": "prepayment", "name": "提前还款手续费", "basis": "percent_of_outstanding"}


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def itemised(contract: dict[str, Any]) -> dict[str, Any]:
    """``contract`` (a stored contract) with its fees itemised (module docstring)."""
    prepayment = dict(contract.get("prepayment") or {})
    if "fees" not in prepayment:
        rate = Decimal(str(prepayment.pop("fee_rate", "0")))
        prepayment["fees"] = [{**LEGACY_FEE, "value": str(rate)}] if rate else []
        prepayment.setdefault("min_fee", "0")
    return {**contract, "prepayment": prepayment, "late_fees": contract.get("late_fees", [])}


def divisor(contract: dict[str, Any]) -> int:
    """The penalty rate's day divisor of a stored contract."""
    if (contract.get("penalty") or {}).get("daily_rate") is not None:
        return 1
    return BASES.get(str((contract.get("schedule") or {}).get("day_count")), 360)


def _rewrite_contracts(bind: sa.engine.Connection) -> dict[int, int]:
    loans = sa.table("loans", sa.column("id", sa.Integer), sa.column("terms", sa.JSON))
    divisors = {}
    for loan_id, terms in bind.execute(sa.select(loans.c.id, loans.c.terms)).all():
        terms = _loaded(terms)
        if not isinstance(terms, dict):
            continue
        divisors[loan_id] = divisor(terms)
        bind.execute(loans.update().where(loans.c.id == loan_id).values(terms=itemised(terms)))
    applications = sa.table("applications", sa.column("id", sa.Integer), sa.column("offer", sa.JSON))
    for application_id, offer in bind.execute(sa.select(applications.c.id, applications.c.offer)
                                              .where(applications.c.offer.isnot(None))).all():
        offer = _loaded(offer)
        if isinstance(offer, dict) and isinstance(offer.get("contract"), dict):
            bind.execute(applications.update().where(applications.c.id == application_id)
                         .values(offer={**offer, "contract": itemised(offer["contract"])}))
    return divisors


def _scale_carries(bind: sa.engine.Connection, divisors: dict[int, int]) -> None:
    rows = sa.table("loan_installments", sa.column("id", sa.Integer), sa.column("loan_id", sa.Integer),
                    sa.column("penalty_carry", sa.String))
    for row_id, loan_id, carry in bind.execute(sa.select(rows.c.id, rows.c.loan_id, rows.c.penalty_carry)).all():
        if carry is not None and Decimal(str(carry)) != 0:
            scaled = Decimal(str(carry)) * divisors.get(loan_id, 360)
            bind.execute(rows.update().where(rows.c.id == row_id).values(penalty_carry=str(scaled)))
    events = sa.table("servicing_events", sa.column("id", sa.Integer), sa.column("loan_id", sa.Integer),
                      sa.column("snapshot", sa.JSON))
    for event_id, loan_id, saved in bind.execute(sa.select(events.c.id, events.c.loan_id, events.c.snapshot)
                                                 .where(events.c.snapshot.isnot(None))).all():
        saved = _loaded(saved)
        if not isinstance(saved, dict):
            continue
        for row in saved.get("installments") or []:
            if row.get("penalty_carry") not in (None, "0"):
                row["penalty_carry"] = str(Decimal(str(row["penalty_carry"])) * divisors.get(loan_id, 360))
        bind.execute(events.update().where(events.c.id == event_id).values(snapshot=saved))


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("loan_installments") as batch:
        batch.add_column(sa.Column("late_fee", core.db.base.Amount(), server_default="0", nullable=False))
    if bind.dialect.name == "postgresql":
        op.alter_column("loan_installments", "penalty_carry", type_=sa.Numeric(40, 24),
                        existing_type=sa.Numeric(30, 16))
    _scale_carries(bind, _rewrite_contracts(bind))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("loan_installments", "penalty_carry", type_=sa.Numeric(30, 16),
                        existing_type=sa.Numeric(40, 24))
    with op.batch_alter_table("loan_installments") as batch:
        batch.drop_column("late_fee")
