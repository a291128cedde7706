"""The cockpit's figures: the applications, read with set-based SQL, and the kernel's portfolio measures.

Applications, so a risk manager can check them:

- applications: every application past draft; decided: those with a decision time.
- approval rate: decided applications approved (approved or any later step up to disbursed) / decided.
- share decided automatically: decided applications that never had a manual approval task / decided.
- average time to decision: mean of decided_at − created_at over decided applications, in minutes.

The book is :func:`core.portfolio.measures.book_on` at the end of the day shown (today in Asia/Shanghai
unless asked): disbursed (count and principal, all time), outstanding principal, the coincident
delinquency rate (M1+: the principal of loans past due / outstanding principal, both now), outstanding by
bucket (the chart's M3+ gathers M3 and later) and by five-tier class. The monthly statistics report reads
the same measures; no figure is defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.applications.models import Application
from core.origination.approval import ApprovalTask
from core.portfolio.measures import BUCKETS, Portfolio, book_on, disbursed, ratio

APPROVED_STATES = ("approved", "accepted", "contract_signed", "disbursing", "disbursed", "disbursement_failed")
#: the chart's buckets: M3+ gathers M3 and every later one
BUCKET_GROUPS = {"M0": BUCKETS[:1], "M1": BUCKETS[1:2], "M2": BUCKETS[2:3], "M3+": BUCKETS[3:]}
SHANGHAI = ZoneInfo("Asia/Shanghai")


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
    day: date
    applications: int = 0
    decided: int = 0
    approved: int = 0
    automatic: int = 0
    average_minutes_to_decision: Decimal | None = None
    disbursed_count: int = 0
    disbursed_amount: Decimal = Decimal(0)
    portfolio: Portfolio | None = None
    outstanding: Decimal = Decimal(0)
    delinquent_outstanding: Decimal = Decimal(0)
    delinquency_rate: Decimal | None = None
    buckets: dict[str, Decimal] = field(default_factory=dict)
    five_tier: dict[str, Decimal] = field(default_factory=dict)

    @property
    def approval_rate(self) -> Decimal | None:
        return ratio(Decimal(self.approved), Decimal(self.decided))

    @property
    def automatic_share(self) -> Decimal | None:
        return ratio(Decimal(self.automatic), Decimal(self.decided))

    def chart_data(self) -> dict[str, Any]:
        """The two charts' series in display order, as ``[label, exact amount text]`` pairs."""
        return {"buckets": [[k, format(v, "f")] for k, v in self.buckets.items()],
                "five_tier": [[k, format(v, "f")] for k, v in self.five_tier.items()]}


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
    lent = disbursed(session)
    kpis.disbursed_count, kpis.disbursed_amount = lent.loans, lent.principal
    book = kpis.portfolio = book_on(session, kpis.day)
    kpis.outstanding, kpis.delinquent_outstanding = book.outstanding.principal, book.delinquent.principal
    kpis.delinquency_rate = book.m1_plus_ratio
    kpis.buckets = {group: book.where(buckets=members).principal for group, members in BUCKET_GROUPS.items()}
    kpis.five_tier = {tier.value: part.principal for tier, part in book.five_tier.items()}


def today() -> date:
    """The business day in Asia/Shanghai."""
    return datetime.now(SHANGHAI).date()


def compute(session: Session, day: date | None = None) -> Kpis:
    """Every cockpit figure, the book's at the end of ``day`` (default :func:`today`)."""
    kpis = Kpis(day=day or today())
    _applications(session, kpis)
    _book(session, kpis)
    return kpis
