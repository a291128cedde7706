"""The cockpit's figures, read straight from the books with set-based SQL (no rule lives here).

Definitions, so a risk manager can check them:

- applications: every application past draft; decided: those with a decision time.
- approval rate: decided applications approved (approved or any later step up to disbursed) / decided.
- share decided automatically: decided applications that never had a manual approval task / decided.
- average time to decision: mean of decided_at − created_at over decided applications, in minutes.
- disbursed: loans booked, count and principal.
- outstanding: contractual principal not yet paid on loans that are not closed or written off.
- coincident delinquency rate: outstanding principal of loans with days past due > 0 / outstanding
  principal of the same date (both measured now, hence "coincident").
- M1 / M2 / M3+: outstanding principal by the loan's bucket (M3+ gathers M3 and later).
- five-tier balances: outstanding principal by 五级分类.

Three statements compute everything: one over applications (counts with ``CASE``), one over loans, and
one over the open installments of live loans grouped by bucket group, five-tier class and delinquency.
Money is summed exactly on both back ends by :class:`exact_sum`: PostgreSQL sums its ``NUMERIC``;
SQLite, which keeps amounts as decimal text (:class:`core.db.base.Amount`), sums them as integer
ten-thousandths parsed from the text, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Integer, Numeric, case, exists, func, literal, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from core.applications.models import Application
from core.loans.models import FiveTier, Loan, LoanInstallment
from core.origination.approval import ApprovalTask

APPROVED_STATES = ("approved", "contract_signed", "disbursing", "disbursed", "disbursement_failed")
CLOSED_LOAN_STATES = ("paid_off", "prepaid_closed", "written_off")
BUCKET_GROUPS = ("M0", "M1", "M2", "M3+")
#: SQLite sums amounts in units of 10^-SCALE yuan: the four decimals of NUMERIC(20, 4)
SCALE = 4


class _ExactSumType(TypeDecorator[Decimal]):
    """The result of :class:`exact_sum`: a ``Decimal`` from PostgreSQL's NUMERIC or SQLite's integer units."""

    impl = Numeric(38, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(38, SCALE, asdecimal=True))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal:
        if value is None:
            return Decimal(0)
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)


class exact_sum(FunctionElement[Decimal]):
    """``SUM`` of an :class:`~core.db.base.Amount` column, exact on every back end (0 when there are no rows).

    Amounts carry at most four decimals (``NUMERIC(20, 4)``); the sum of a column must stay below
    about 9 × 10^14 yuan on SQLite (a 64-bit integer of ten-thousandths).
    """

    type = _ExactSumType()
    inherit_cache = True
    name = "exact_sum"


@compiles(exact_sum)
def _sum_numeric(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"COALESCE(SUM({compiler.process(element.clauses, **kw)}), 0)"


@compiles(exact_sum, "sqlite")
def _sum_text(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    zeros = "0" * SCALE
    units = (f"CASE WHEN instr({text}, '.') = 0 THEN CAST({text} || '{zeros}' AS INTEGER) "
             f"ELSE CAST(replace({text}, '.', '') || substr('{zeros}', 1, {SCALE} - length({text}) + "
             f"instr({text}, '.')) AS INTEGER) END")
    return f"COALESCE(SUM({units}), 0)"


class minutes_between(FunctionElement[float]):
    """Minutes from the second timestamp to the first (a duration, not money: a float is fine)."""

    type = Float()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between)
def _minutes_postgresql(element: minutes_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 60.0)"


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element: minutes_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 1440.0)"


@dataclass
class Kpis:
    applications: int = 0
    decided: int = 0
    approved: int = 0
    automatic: int = 0
    average_minutes_to_decision: Decimal | None = None
    disbursed_count: int = 0
    disbursed_amount: Decimal = Decimal(0)
    outstanding: Decimal = Decimal(0)
    delinquent_outstanding: Decimal = Decimal(0)
    buckets: dict[str, Decimal] = field(default_factory=dict)
    five_tier: dict[str, Decimal] = field(default_factory=dict)

    @property
    def approval_rate(self) -> Decimal | None:
        return _ratio(self.approved, self.decided)

    @property
    def automatic_share(self) -> Decimal | None:
        return _ratio(self.automatic, self.decided)

    @property
    def delinquency_rate(self) -> Decimal | None:
        return _ratio(self.delinquent_outstanding, self.outstanding)

    def chart_data(self) -> dict[str, Any]:
        """The two charts' series in display order, as ``[label, exact amount text]`` pairs."""
        return {"buckets": [[k, format(v, "f")] for k, v in self.buckets.items()],
                "five_tier": [[k, format(v, "f")] for k, v in self.five_tier.items()]}


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _applications(session: Session, kpis: Kpis) -> None:
    decided = Application.decided_at.is_not(None)
    manual = exists().where(ApprovalTask.application_id == Application.id)
    row = session.execute(select(
        _count(Application.state != "draft"), _count(decided),
        _count(decided & Application.state.in_(APPROVED_STATES)), _count(decided & ~manual),
        func.avg(case((decided, minutes_between(Application.decided_at, Application.created_at)))),
    )).one()
    kpis.applications, kpis.decided, kpis.approved, kpis.automatic = (int(v) for v in row[:4])
    if row[4] is not None:
        kpis.average_minutes_to_decision = Decimal(str(row[4])).quantize(Decimal("0.1"))


def _book(session: Session, kpis: Kpis) -> None:
    count, principal = session.execute(select(func.count(Loan.id), exact_sum(Loan.principal))).one()
    kpis.disbursed_count, kpis.disbursed_amount = int(count), principal
    # grouped by the output columns' names: PostgreSQL would not match two renderings of a CASE with
    # bound parameters in SELECT and GROUP BY
    group = case((Loan.bucket.in_(BUCKET_GROUPS[:3]), Loan.bucket), else_=literal("M3+")).label("bucket_group")
    late = case((Loan.days_past_due > 0, 1), else_=0).label("late")
    rows = session.execute(
        select(group, Loan.five_tier, late, exact_sum(LoanInstallment.principal),
               exact_sum(LoanInstallment.paid_principal))
        .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
        .where(Loan.state.not_in(CLOSED_LOAN_STATES), LoanInstallment.status != "paid")
        .group_by(literal_column("bucket_group"), Loan.five_tier, literal_column("late")))
    kpis.buckets = dict.fromkeys(BUCKET_GROUPS, Decimal(0))
    kpis.five_tier = {tier.value: Decimal(0) for tier in FiveTier}
    for bucket, tier, is_late, principal_sum, paid_sum in rows:
        owed = principal_sum - paid_sum
        kpis.outstanding += owed
        if is_late:
            kpis.delinquent_outstanding += owed
        kpis.buckets[bucket] += owed
        kpis.five_tier[tier] = kpis.five_tier.get(tier, Decimal(0)) + owed


def compute(session: Session) -> Kpis:
    """Every cockpit figure, as of now."""
    kpis = Kpis()
    _applications(session, kpis)
    _book(session, kpis)
    return kpis
