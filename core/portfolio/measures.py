"""Portfolio measures (资产质量): what the book holds and how late it is, one definition for every screen.

A :class:`Portfolio` is the book at the end of a day ``D``, cut by delinquency bucket and five-tier class.
The cockpit, the monthly statistics report and any later screen read it; none defines a figure of its own.

* **On the book**: loans disbursed by ``D`` and not closed by ``D`` (paid off, prepaid or written off with
  ``closed_on <= D``).
* **Outstanding** (贷款余额): the principal receivable, account 1303, of the loans on the book: the
  ledger's figure (the ``loan_balances`` projection; for a past day the journal up to ``D``). Interest, fee
  and penalty receivable (the projection's other columns) are owed too but are not outstanding: they are
  income accrued, and balance ratios are by principal, as the regulator reads them.
* **Days past due** (DPD): ``D`` minus the oldest installment due before ``D`` and unsettled at its end, the
  end-of-day's rule (:func:`core.loans.daily.days_past_due`) rebuilt at ``D``
  (:mod:`core.portfolio.positions`). **Buckets** M0 … M7 by :func:`core.loans.delinquency.bucket`;
  **five-tier class** by the classification policy in force on ``D``; **state** active (M0) or overdue
  (M1 and later), as end-of-day moves it.
* **Overdue principal / amount** (逾期本金 / 逾期金额): the principal, and the principal, interest and fee,
  still owed on the installments past due (penalty not included).
* **Ratios**, of outstanding principal, to four places rounded half up (:func:`ratio`): M1+ (逾期率, DPD
  over 0: the cockpit's coincident delinquency rate), PAR30 (DPD over 30), NPL (不良率: 次级 + 可疑 + 损失),
  and each bucket's and class's share.
* **Allowance** (:func:`coverage`): the loan-loss allowance held (account 1304) at the end of ``D``;
  拨备覆盖率 (provision coverage) = allowance / non-performing principal; 拨贷比 (allowance to loans) =
  allowance / outstanding principal.
* **Income by product and month** (:func:`income_by_product_month`): interest, penalty and fee income
  recognised (net of non-accrual suspense), per product and calendar month.

Where the cockpit and the reports used to disagree, the reports' definitions won. The cockpit summed the
schedule's unpaid principal, where the books' figure is the journal's (the schedule is the plan the
journal settles; the ledger is what the trial balance and the auditors read). And it took each loan's
stored ``days_past_due``, ``bucket`` and ``five_tier``, the verdict of the last end-of-day, which lags a
repayment that cured a loan, or a due date missed, until the next one runs, and which is missing from
books end-of-day has not reached; rebuilding DPD from the installments at ``D`` gives what that day's
end-of-day records (``tests/plugins_builtin/test_positions_against_eod.py``) without waiting for it. The
cockpit's M3+ and the report's M3 … M7 are the same buckets, grouped for a chart.

Two ways to measure, held equal by ``tests/portfolio_measures/test_measures.py``: :func:`book_on`, set-based SQL
over the whole book for the book as it stands (the cockpit: balances from the projection, so postings
dated after ``D`` count); and :class:`Tally`, which adds up :class:`~core.portfolio.positions.Position`\\ s
a report has rebuilt loan by loan at a past day with the journal's balances up to it. :func:`disbursed` is
the lending of a period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select, text
from sqlalchemy.orm import Session

from core.db.sums import exact_sum
from core.ledger.accounts import FEE_INCOME, INTEREST_INCOME, PENALTY_INCOME
from core.ledger.models import ALLOWANCE_LINES, JournalEntry, LoanBalance, Posting
from core.loans.delinquency import DEFAULT_CLASSIFICATION, NON_PERFORMING, ClassificationPolicy, bucket, policy_on
from core.loans.models import FiveTier, Loan, LoanInstallment
from core.portfolio.positions import CLOSED_STATES, Position

ZERO = Decimal(0)
RATIO = Decimal("0.0001")
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7")
#: the buckets of loans more than 30 days past due (PAR30)
OVER_30 = BUCKETS[2:]


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole`` to four places, half up (0.1234 = 12.34%); ``None`` when ``whole`` is zero."""
    return (part / whole).quantize(RATIO, ROUND_HALF_UP) if whole else None


@dataclass(frozen=True)
class Slice:
    """Some loans on the book: how many, and their outstanding principal."""

    loans: int = 0
    principal: Decimal = ZERO

    def __add__(self, other: Slice) -> Slice:
        return Slice(self.loans + other.loans, self.principal + other.principal)


Cell = tuple[str, FiveTier]


@dataclass(frozen=True)
class Portfolio:
    """The book at the end of ``day``: a :class:`Slice` per (bucket, class) holding loans, and what is owed
    on the installments past due. Every other figure is read from these."""

    day: date
    cells: Mapping[Cell, Slice] = field(default_factory=dict)
    overdue_principal: Decimal = ZERO
    overdue_amount: Decimal = ZERO

    def where(self, buckets: Iterable[str] = BUCKETS, tiers: Iterable[FiveTier] = tuple(FiveTier)) -> Slice:
        """The loans in any of ``buckets`` and of any of ``tiers``."""
        wanted_buckets, wanted_tiers = set(buckets), set(tiers)
        return sum((part for (b, t), part in self.cells.items() if b in wanted_buckets and t in wanted_tiers),
                   Slice())

    @property
    def outstanding(self) -> Slice:
        """Every loan on the book and its principal (贷款余额)."""
        return self.where()

    @property
    def buckets(self) -> dict[str, Slice]:
        """M0 … M7, every bucket present."""
        return {name: self.where(buckets=(name,)) for name in BUCKETS}

    @property
    def five_tier(self) -> dict[FiveTier, Slice]:
        """正常 … 损失, every class present."""
        return {tier: self.where(tiers=(tier,)) for tier in FiveTier}

    @property
    def states(self) -> dict[str, Slice]:
        """Loans ``active`` (M0) and ``overdue`` (M1 and later)."""
        return {"active": self.where(buckets=("M0",)), "overdue": self.delinquent}

    @property
    def delinquent(self) -> Slice:
        """Loans past due at all (M1+, DPD over 0)."""
        return self.where(buckets=BUCKETS[1:])

    @property
    def par30(self) -> Slice:
        """Loans more than 30 days past due (M2+)."""
        return self.where(buckets=OVER_30)

    @property
    def non_performing(self) -> Slice:
        """不良: 次级, 可疑 and 损失."""
        return self.where(tiers=NON_PERFORMING)

    def share(self, part: Slice) -> Decimal | None:
        """``part``'s principal as a :func:`ratio` of the outstanding principal."""
        return ratio(part.principal, self.outstanding.principal)

    @property
    def m1_plus_ratio(self) -> Decimal | None:
        """逾期率: the principal of loans past due / outstanding principal."""
        return self.share(self.delinquent)

    @property
    def par30_ratio(self) -> Decimal | None:
        return self.share(self.par30)

    @property
    def npl_ratio(self) -> Decimal | None:
        """不良率: the principal of 次级 + 可疑 + 损失 / outstanding principal."""
        return self.share(self.non_performing)


class _Cells:
    """The running sums a :class:`Portfolio` is made of."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.cells: dict[Cell, Slice] = {}
        self.overdue_principal = ZERO
        self.overdue_amount = ZERO

    def add(self, key: Cell, part: Slice) -> None:
        self.cells[key] = self.cells.get(key, Slice()) + part

    def portfolio(self) -> Portfolio:
        return Portfolio(self.day, dict(self.cells), self.overdue_principal, self.overdue_amount)


class Tally:
    """Adds up positions rebuilt loan by loan at the end of ``day`` (a report's path, classified by the
    report's policies) into a :class:`Portfolio`; loans not on the book that day are passed over."""

    def __init__(self, day: date) -> None:
        self._cells = _Cells(day)

    def add(self, position: Position) -> None:
        if position.closed or not position.loan.opened_by(position.day):
            return
        self._cells.add((position.bucket, position.five_tier), Slice(1, position.balance))
        self._cells.overdue_principal += position.overdue_principal
        self._cells.overdue_amount += position.overdue_amount

    def portfolio(self) -> Portfolio:
        return self._cells.portfolio()


def _on_book(day: date) -> Any:
    closed = and_(Loan.closed_on.is_not(None), Loan.closed_on <= day, Loan.state.in_(CLOSED_STATES))
    return and_(Loan.disbursed_on <= day, not_(closed))


def _unsettled(day: date) -> Any:
    """An installment due before ``day`` and still owed at its end (as
    :meth:`core.portfolio.positions.LoanFacts.overdue_at`)."""
    return and_(LoanInstallment.due_date < day,
                or_(LoanInstallment.paid_on.is_(None), LoanInstallment.paid_on > day))


def book_on(session: Session, day: date,
            policies: Sequence[ClassificationPolicy] = DEFAULT_CLASSIFICATION) -> Portfolio:
    """The book as it stands, its delinquency at the end of ``day`` (normally today), in two statements.

    Mirrors :mod:`core.portfolio.positions` in SQL: the loans on the book are grouped by their oldest
    installment due before ``day`` and unsettled at its end, so each group has one DPD and the Python rule
    (:func:`~core.loans.delinquency.bucket`, the policy) classifies groups, not loans. Balances are the
    ``loan_balances`` projection: postings dated after ``day``, if any, are counted (a past day is measured
    with :class:`Tally`).
    """
    cells = _Cells(day)
    policy = policy_on(policies, day)
    oldest = (select(LoanInstallment.loan_id, func.min(LoanInstallment.due_date).label("oldest"))
              .where(_unsettled(day)).group_by(LoanInstallment.loan_id).subquery())
    groups = session.execute(
        select(oldest.c.oldest, func.count(Loan.id), exact_sum(LoanBalance.principal))
        .select_from(Loan).outerjoin(LoanBalance, LoanBalance.loan_id == Loan.id)
        .outerjoin(oldest, oldest.c.loan_id == Loan.id)
        .where(_on_book(day)).group_by(oldest.c.oldest))
    for due, loans, principal in groups:
        dpd = (day - due).days if due is not None else 0
        cells.add((bucket(dpd), policy.classify(dpd)), Slice(loans, principal))
    unpaid = LoanInstallment.paid_on.is_(None)
    owed = session.execute(
        select(exact_sum(LoanInstallment.principal), exact_sum(case((unpaid, LoanInstallment.paid_principal))),
               exact_sum(LoanInstallment.interest), exact_sum(case((unpaid, LoanInstallment.paid_interest))),
               exact_sum(LoanInstallment.fee), exact_sum(case((unpaid, LoanInstallment.paid_fee))))
        .join(Loan, Loan.id == LoanInstallment.loan_id).where(_on_book(day), _unsettled(day))).one()
    principal, paid_principal, interest, paid_interest, fee, paid_fee = owed
    cells.overdue_principal = principal - paid_principal
    cells.overdue_amount = cells.overdue_principal + interest - paid_interest + fee - paid_fee
    return cells.portfolio()


def disbursed(session: Session, start: date | None = None, end: date | None = None) -> Slice:
    """The loans disbursed from ``start`` to ``end`` (each end open when ``None``) and the principal paid out."""
    query = select(func.count(Loan.id), exact_sum(Loan.principal))
    if start is not None:
        query = query.where(Loan.disbursed_on >= start)
    if end is not None:
        query = query.where(Loan.disbursed_on <= end)
    loans, principal = session.execute(query).one()
    return Slice(int(loans), principal)


def allowance(session: Session, through: date) -> Decimal:
    """The loan-loss allowance held (credit balance of account 1304) from entries dated up to ``through``; read
    through the partial index of the allowance's postings (its predicate spelled as the index's)."""
    session.flush()
    rows = session.execute(select(Posting.debit, Posting.credit).join(JournalEntry, JournalEntry.id == Posting.entry_id)
                           .where(text(f"ledger_postings.{ALLOWANCE_LINES}"), JournalEntry.business_date <= through))
    return sum((credit - debit for debit, credit in rows), ZERO)


@dataclass(frozen=True)
class Coverage:
    """The allowance against the book: 拨备覆盖率 (over non-performing principal) and 拨贷比 (over principal)."""

    allowance: Decimal
    non_performing: Decimal
    outstanding: Decimal

    @property
    def coverage_ratio(self) -> Decimal | None:
        """拨备覆盖率 = allowance / non-performing (次级 + 可疑 + 损失) principal."""
        return ratio(self.allowance, self.non_performing)

    @property
    def allowance_ratio(self) -> Decimal | None:
        """拨贷比 = allowance / outstanding principal."""
        return ratio(self.allowance, self.outstanding)


def coverage(session: Session, book: Portfolio) -> Coverage:
    """The allowance held at the end of the book's day against its non-performing and outstanding principal."""
    return Coverage(allowance(session, book.day), book.non_performing.principal, book.outstanding.principal)


#: the kernel's income accounts (interest, penalty, fees), as income by product reads them
INCOME_ACCOUNTS = (INTEREST_INCOME, PENALTY_INCOME, FEE_INCOME)


def income_by_product_month(session: Session, first: date, last: date) -> dict[tuple[str, str], Decimal]:
    """Income recognised (credits less debits of the income accounts) of entries dated ``first`` .. ``last``,
    by product and month (``"2026-06"``); lines of no loan under product ``""``. Non-accrual suspends and
    releases through these accounts, so this is the income recognised, net of it."""
    session.flush()
    month = (func.to_char(JournalEntry.business_date, "YYYY-MM") if session.get_bind().dialect.name == "postgresql"
             else func.strftime("%Y-%m", JournalEntry.business_date))
    query = (select(func.coalesce(Loan.product_code, ""), month, Posting.debit, Posting.credit)
             .join(JournalEntry, JournalEntry.id == Posting.entry_id).outerjoin(Loan, Loan.id == Posting.loan_id)
             .where(Posting.account.in_(INCOME_ACCOUNTS), JournalEntry.business_date.between(first, last)))
    found: dict[tuple[str, str], Decimal] = {}
    for product, period, debit, credit in session.execute(query):
        found[(product, period)] = found.get((product, period), ZERO) + credit - debit
    return dict(sorted(found.items()))
