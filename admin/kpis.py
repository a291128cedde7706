"""The cockpit's figures: the applications, read with set-based SQL, and the kernel's portfolio measures.

Applications, so a risk manager can check them:

- applications: every application past draft; decided: those with a decision time.
- approval rate: decided applications approved (approved or any later step up to disbursed) / decided.
- share decided automatically: decided applications that never had a manual approval task / decided.
- average time to decision: mean of decided_at − created_at over decided applications, in minutes.

A drawdown on a credit line is recorded as an application of its own, approved under the line: it is not an
application anyone decided, and these figures leave it out. The early-warning coverage (预警覆盖率) is
:func:`core.early_warning.scan.coverage`.

The book is :func:`core.portfolio.measures.book_on` at the end of the day shown (today in Asia/Shanghai
unless asked): disbursed (count and principal, all time), outstanding principal, the coincident
delinquency rate (M1+: the principal of loans past due / outstanding principal, both now), outstanding by
bucket (the chart's M3+ gathers M3 and later) and by five-tier class, the NPL ratio (不良率), provision
coverage (拨备覆盖率) and allowance to loans (拨贷比), and income by product for the day's month and the five
before it (a chart). The monthly statistics report reads the same measures; no figure is defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.applications.models import Application
from core.credit_lines.models import Drawdown
from core.early_warning.scan import Coverage
from core.early_warning.scan import coverage as warning_coverage
from core.origination.approval import ApprovalTask
from core.portfolio.measures import BUCKETS, Portfolio, book_on, coverage, disbursed, income_by_product_month, ratio
from loanfactory import clock

APPROVED_STATES = ("approved", "accepted", "contract_signed", "disbursing", "disbursed", "disbursement_failed",
                   "line_granted")
#: the chart's buckets: M3+ gathers M3 and every later one
BUCKET_GROUPS = {"M0": BUCKETS[:1], "M1": BUCKETS[1:2], "M2": BUCKETS[2:3], "M3+": BUCKETS[3:]}
#: the months before the day's own the income chart shows
INCOME_MONTHS = 5


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
    npl_ratio: Decimal | None = None
    coverage_ratio: Decimal | None = None
    allowance_ratio: Decimal | None = None
    income: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    warning_coverage: Coverage | None = None

    @property
    def approval_rate(self) -> Decimal | None:
        return ratio(Decimal(self.approved), Decimal(self.decided))

    @property
    def automatic_share(self) -> Decimal | None:
        return ratio(Decimal(self.automatic), Decimal(self.decided))

    def chart_data(self) -> dict[str, Any]:
        """The two charts' series in display order, as ``[label, exact amount text]`` pairs."""
        months = sorted({month for _, month in self.income})
        products = sorted({product for product, _ in self.income})
        return {"buckets": [[k, format(v, "f")] for k, v in self.buckets.items()],
                "five_tier": [[k, format(v, "f")] for k, v in self.five_tier.items()],
                "income": {"months": months, "products": [
                    [product or "-", [format(self.income.get((product, month), Decimal(0)), "f") for month in months]]
                    for product in products]}}


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _applications(session: Session, kpis: Kpis) -> None:
    decided = Application.decided_at.is_not(None)
    manual = exists().where(ApprovalTask.application_id == Application.id)
    row = session.execute(select(
        _count(Application.state != "draft"), _count(decided),
        _count(decided & Application.state.in_(APPROVED_STATES)), _count(decided & ~manual),
        func.avg(case((decided, minutes_between(Application.decided_at, Application.created_at)))),
    ).where(~exists().where(Drawdown.application_id == Application.id))).one()
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
    cover = coverage(session, book)
    kpis.npl_ratio, kpis.coverage_ratio, kpis.allowance_ratio = (book.npl_ratio, cover.coverage_ratio,
                                                                 cover.allowance_ratio)
    months = kpis.day.year * 12 + kpis.day.month - 1 - INCOME_MONTHS
    first = date(months // 12, months % 12 + 1, 1)
    kpis.income = income_by_product_month(session, first, kpis.day)


def today() -> date:
    """The business date on the lender's clock (:mod:`loanfactory.clock`)."""
    return clock.today()


def compute(session: Session, day: date | None = None) -> Kpis:
    """Every cockpit figure, the book's at the end of ``day`` (default :func:`today`)."""
    kpis = Kpis(day=day or today())
    _applications(session, kpis)
    _book(session, kpis)
    kpis.warning_coverage = warning_coverage(session)
    return kpis
