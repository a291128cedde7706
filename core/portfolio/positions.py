"""Where a loan stood at the end of a past day, rebuilt from its installments and the journal.

Loans carry only today's delinquency (``days_past_due``, ``bucket``, ``five_tier`` as end-of-day last set
them), while reports look back: last month's end, the first day of a migration period, every month of a
24-month grid. This module rebuilds a loan's position as of the end of any day ``D`` from facts that do
not change afterwards:

* an installment was unsettled at ``D`` when it is unsettled now or was settled after ``D``
  (``paid_on > D``); days past due is ``D`` minus the oldest unsettled due date before ``D``, the rule
  of :func:`core.loans.daily.days_past_due`; bucket and five-tier class then follow
  :func:`core.loans.delinquency.bucket` and the classification policy in force on ``D``;
* the loan was closed at ``D`` when ``closed_on <= D`` (written off, paid off or prepaid);
* the outstanding principal is the journal's balance of account 1303 for the loan up to ``D``.

What cannot be rebuilt: partial payments on an installment that is still unsettled today are taken at
today's amount (an installment settled after ``D`` is counted as wholly unpaid at ``D``).

This is the rule, loan by loan, for readers that need each loan (the credit-reporting file, the five-tier
migration matrix). :func:`core.portfolio.measures.book_on` mirrors it in set-based SQL for a whole book,
and :class:`core.portfolio.measures.Tally` adds positions up into the same
:class:`~core.portfolio.measures.Portfolio`; ``tests/portfolio_measures/test_measures.py`` holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.loans.delinquency import ClassificationPolicy, bucket, policy_on
from core.loans.models import FiveTier

ZERO = Decimal(0)
CLOSED_STATES = ("paid_off", "prepaid_closed", "written_off")


@dataclass(frozen=True)
class Due:
    """One installment as reports need it."""

    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    paid_fee: Decimal
    status: str
    paid_on: date | None

    @property
    def amount(self) -> Decimal:
        """What the installment asks for: principal + interest + fee."""
        return self.principal + self.interest + self.fee

    def unsettled_at(self, day: date) -> bool:
        """Whether the installment was still owed at the end of ``day``.

        A written-off installment stays unsettled: it was owed until the write-off, and from then on the
        loan is closed (:meth:`LoanFacts.closed_by`), which ends its delinquency.
        """
        return self.paid_on is None or self.paid_on > day

    def owed_at(self, day: date) -> Decimal:
        """What was still owed on it at the end of ``day`` (see the module note on partial payments)."""
        if not self.unsettled_at(day):
            return ZERO
        if self.paid_on is not None:
            return self.amount
        return self.amount - self.paid_principal - self.paid_interest - self.paid_fee

    def principal_owed_at(self, day: date) -> Decimal:
        if not self.unsettled_at(day):
            return ZERO
        return self.principal if self.paid_on is not None else self.principal - self.paid_principal


@dataclass(frozen=True)
class LoanFacts:
    """A loan's unchanging facts and its installments, oldest first."""

    id: int
    customer_id: int
    product_code: str
    principal: Decimal
    disbursed_on: date
    maturity_date: date
    closed_on: date | None
    state: str
    installments: tuple[Due, ...]

    def opened_by(self, day: date) -> bool:
        return self.disbursed_on <= day

    def closed_by(self, day: date) -> bool:
        return self.closed_on is not None and self.closed_on <= day and self.state in CLOSED_STATES

    def overdue_at(self, day: date) -> tuple[Due, ...]:
        """Installments due before ``day`` and unsettled at its end."""
        return tuple(d for d in self.installments if d.due_date < day and d.unsettled_at(day))

    def days_past_due(self, day: date) -> int:
        """Days from the oldest unsettled due date before ``day`` to ``day`` (0 when none, or closed)."""
        if self.closed_by(day):
            return 0
        late = self.overdue_at(day)
        return (day - min(d.due_date for d in late)).days if late else 0

    def remaining_periods(self, day: date) -> int:
        """Installments (fee-only period 0 aside) falling due after ``day``; none once closed."""
        if self.closed_by(day):
            return 0
        return sum(1 for d in self.installments if d.period > 0 and d.due_date > day)


@dataclass(frozen=True)
class Position:
    """A loan at the end of ``day``: open or closed, days past due, bucket, class and principal balance."""

    loan: LoanFacts
    day: date
    days_past_due: int
    bucket: str
    five_tier: FiveTier
    balance: Decimal

    @property
    def closed(self) -> bool:
        return self.loan.closed_by(self.day)

    @property
    def written_off(self) -> bool:
        return self.closed and self.loan.state == "written_off"

    @property
    def overdue(self) -> tuple[Due, ...]:
        """The installments past due at the end of ``day`` (none once the loan is closed)."""
        return () if self.closed else self.loan.overdue_at(self.day)

    @property
    def overdue_principal(self) -> Decimal:
        """The principal still owed on :attr:`overdue` (逾期本金)."""
        return sum((d.principal_owed_at(self.day) for d in self.overdue), ZERO)

    @property
    def overdue_amount(self) -> Decimal:
        """Principal, interest and fee still owed on :attr:`overdue` (逾期金额; penalty not included)."""
        return sum((d.owed_at(self.day) for d in self.overdue), ZERO)


def position(loan: LoanFacts, day: date, balance: Decimal, policies: tuple[ClassificationPolicy, ...]) -> Position:
    """``loan`` as of the end of ``day`` with principal ``balance`` from the journal."""
    dpd = loan.days_past_due(day)
    return Position(loan=loan, day=day, days_past_due=dpd, bucket=bucket(dpd),
                    five_tier=policy_on(policies, day).classify(dpd), balance=balance)
