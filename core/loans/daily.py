"""One loan's end of one day, as a pure function: rows in, changes and ledger entries out.

:func:`close_day` is the whole end-of-day rule for a loan on business date ``on``, in order:

1. installments falling due: a ``pending`` installment whose due date has come becomes ``due`` (or
   ``overdue`` when the date has passed) and its per-period fee is recognised (fee receivable / income);
   an unsettled ``due`` installment of an earlier date becomes ``overdue``;
2. interest accrual: each started period is brought to its cumulative target (:mod:`core.loans.accrual`);
3. suspense: money held for the borrower settles what is due, by the contract's allocation order;
4. penalty: each overdue installment's unpaid principal (and interest, with 复利) bears the day's penalty
   on that installment, whole fen booked on it and the fraction carried on it to its next day
   (:func:`core.loans.penalty.charge_penalties`); charged at most once per loan per date
   (``penalty_through``);
5. late fees: each installment overdue past the grace is charged the contract's late fees once
   (:func:`core.loans.late_fees.charge_late_fees`);
6. classification: days past due from the oldest unsettled due date, bucket, five-tier class (upgraded by
   the policy's rule, :meth:`~core.loans.delinquency.ClassificationPolicy.reclassify`), and the
   loan's state ``active`` ⇄ ``overdue`` (``paid_off`` when the suspense settled everything);
7. non-accrual: the loan's status by the days past due, and its interest and penalty held in suspense
   accordingly (:mod:`core.loans.nonaccrual`).

Every step is idempotent: running the same date twice changes nothing the second time. The bulk
end-of-day (:mod:`core.eod.partition`) and the servicing operations (which bring a loan to date before
taking money) share this function, so there is one rule for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.ledger.accounts import (
    FEE_INCOME,
    FEE_RECEIVABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    OVERPAYMENT_SUSPENSE,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
)
from core.ledger.posting import Line, NewEntry
from core.loans.accrual import accrued_target
from core.loans.allocation import AllocationOrder, Due, allocate
from core.loans.delinquency import ClassificationPolicy, bucket
from core.loans.fees import LateFeeRule
from core.loans.late_fees import charge_late_fees
from core.loans.ledger_lines import settlement_lines
from core.loans.models import FiveTier
from core.loans.nonaccrual import (
    DEFAULT_NON_ACCRUAL,
    AccrualState,
    NonAccrualPolicy,
    close_non_accrual,
    non_accrual_on,
)
from core.loans.penalty import PenaltyPolicy, charge_penalties
from core.rounding import Rounding

ZERO = Decimal(0)
OPEN_STATES = ("active", "overdue")


@dataclass
class InstallmentRow:
    """A mutable copy of one ``loan_installments`` row; ``changed`` names the columns :func:`close_day` set."""

    id: int
    period: int
    start: date
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    penalty: Decimal
    interest_accrued: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    paid_fee: Decimal
    paid_penalty: Decimal
    waived_penalty: Decimal
    status: str
    paid_on: date | None = None
    penalty_carry: Decimal = ZERO
    late_fee: Decimal = ZERO
    changed: set[str] = field(default_factory=set)

    def set(self, name: str, value: object) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.changed.add(name)

    @property
    def unpaid_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> Decimal:
        return self.interest - self.paid_interest

    @property
    def unpaid_fee(self) -> Decimal:
        return self.fee - self.paid_fee

    @property
    def unpaid_penalty(self) -> Decimal:
        return self.penalty - self.paid_penalty - self.waived_penalty

    @property
    def settled(self) -> bool:
        return not (self.unpaid_principal or self.unpaid_interest or self.unpaid_fee or self.unpaid_penalty)

    @property
    def open(self) -> bool:
        """Due or overdue and not settled: something the borrower owes now."""
        return self.status in ("due", "overdue") and not self.settled

    def due(self) -> Due:
        """What this installment owes, for :func:`~core.loans.allocation.allocate`."""
        return Due(self.period, self.due_date, self.unpaid_penalty, self.unpaid_fee, self.unpaid_interest,
                   self.unpaid_principal)

    def pay(self, component: str, amount: Decimal, on: date) -> None:
        """Record ``amount`` paid on ``component``; the installment becomes ``paid`` once settled."""
        self.set(f"paid_{component}", getattr(self, f"paid_{component}") + amount)
        if self.settled and self.status in ("due", "overdue"):
            self.set("status", "paid")
            self.set("paid_on", on)


@dataclass
class LoanRow:
    """What :func:`close_day` reads of a loan (from ``loans``, its contract and its servicing state)."""

    id: int
    annual_rate: Decimal
    basis: int
    rounding: Rounding
    penalty: PenaltyPolicy
    allocation: AllocationOrder
    state: str
    days_past_due: int
    bucket: str
    five_tier: str
    maturity_date: date
    penalty_through: date | None = None
    suspense: Decimal = ZERO
    accrual: AccrualState = field(default_factory=AccrualState)
    principal: Decimal = ZERO
    late_fees: LateFeeRule = field(default_factory=LateFeeRule)


@dataclass
class DayResult:
    """What closing the day changed for one loan."""

    loan_id: int
    entries: list[NewEntry] = field(default_factory=list)
    loan_changes: dict[str, object] = field(default_factory=dict)
    transition: tuple[str, str] | None = None
    penalty_through: date | None = None


KeyMaker = Callable[[str], str]


def _entry(loan_id: int, key: str, event: str, on: date, lines: list[Line]) -> NewEntry:
    return NewEntry(key, event, on, tuple(lines), loan_id)


def close_day(loan: LoanRow, rows: list[InstallmentRow], on: date, policy: ClassificationPolicy,
              key: KeyMaker, non_accrual: NonAccrualPolicy | None = None) -> DayResult:
    """Apply the end-of-day rule (module docstring) to ``loan`` and its ``rows`` (changed in place).

    Args:
        loan: the loan; its ``state`` and servicing fields are updated in place too.
        rows: its installments that are not settled and whose period has started (more is fine), any order.
        on: the business date being closed.
        policy: the classification thresholds in force on ``on``.
        key: makes the idempotency key of this day's entry for a step name.
        non_accrual: the non-accrual policy in force on ``on`` (default: the dated default's).
    """
    result = DayResult(loan.id)
    rows = sorted(rows, key=lambda r: r.period)
    _fall_due(loan, rows, on, key, result)
    _accrue(loan, rows, on, key, result)
    _apply_suspense(loan, rows, on, key, result)
    _charge_penalty(loan, rows, on, key, result)
    _charge_late_fees(loan, rows, on, key, result)
    _classify(loan, rows, on, policy, result)
    since = loan.accrual.since
    result.entries += close_non_accrual(loan.id, on, non_accrual or non_accrual_on(DEFAULT_NON_ACCRUAL, on), key,
                                        loan.days_past_due, loan.accrual, result.entries)
    if loan.accrual.since != since:
        result.loan_changes["non_accrual_since"] = loan.accrual.since
    return result


def _fall_due(loan: LoanRow, rows: list[InstallmentRow], on: date, key: KeyMaker, result: DayResult) -> None:
    fees = ZERO
    for row in rows:
        if row.status == "pending" and row.due_date <= on:
            row.set("status", "due" if row.due_date == on else "overdue")
            fees += row.fee
        elif row.status == "due" and row.due_date < on:
            row.set("status", "overdue")
    if fees:
        result.entries.append(_entry(loan.id, key("fee"), "eod_fee", on,
                                     [Line.dr(FEE_RECEIVABLE, fees), Line.cr(FEE_INCOME, fees)]))


def _accrue(loan: LoanRow, rows: list[InstallmentRow], on: date, key: KeyMaker, result: DayResult) -> None:
    total = ZERO
    for row in rows:
        if row.start < on and row.interest_accrued < row.interest and row.status != "written_off":
            target = accrued_target(row.interest, row.start, row.due_date, on, loan.rounding)
            if target > row.interest_accrued:
                total += target - row.interest_accrued
                row.set("interest_accrued", target)
    if total:
        result.entries.append(_entry(loan.id, key("accrual"), "eod_accrual", on,
                                     [Line.dr(INTEREST_RECEIVABLE, total), Line.cr(INTEREST_INCOME, total)]))


def _apply_suspense(loan: LoanRow, rows: list[InstallmentRow], on: date, key: KeyMaker, result: DayResult) -> None:
    if loan.suspense <= 0:
        return
    open_rows = [row for row in rows if row.open]
    owed = sum((row.due().total for row in open_rows), ZERO)
    amount = min(loan.suspense, owed)
    if amount <= 0:
        return
    allocation = allocate(amount, [row.due() for row in open_rows], loan.allocation)
    by_period = {row.period: row for row in open_rows}
    for line in allocation.lines:
        by_period[line.period].pay(line.component.value, line.amount, on)
    loan.suspense -= amount
    lines = [Line.dr(OVERPAYMENT_SUSPENSE, amount), *settlement_lines(allocation)]
    result.entries.append(_entry(loan.id, key("suspense"), "suspense_applied", on, lines))


def _charge_penalty(loan: LoanRow, rows: list[InstallmentRow], on: date, key: KeyMaker, result: DayResult) -> None:
    if loan.penalty_through is not None and loan.penalty_through >= on:
        return
    charges = charge_penalties(loan.penalty, rows, on, annual_rate=loan.annual_rate, basis=loan.basis)
    if not charges:
        return
    loan.penalty_through = result.penalty_through = on
    posted = sum((charge.posted for charge in charges), ZERO)
    if posted > 0:
        result.entries.append(_entry(loan.id, key("penalty"), "eod_penalty", on,
                                     [Line.dr(PENALTY_RECEIVABLE, posted), Line.cr(PENALTY_INCOME, posted)]))


def _charge_late_fees(loan: LoanRow, rows: list[InstallmentRow], on: date, key: KeyMaker,
                      result: DayResult) -> None:
    charged = charge_late_fees(loan.late_fees, rows, on, grace_days=loan.penalty.grace_days,
                               principal=loan.principal, rounding=loan.rounding)
    if charged:
        result.entries.append(_entry(loan.id, key("late_fee"), "eod_late_fee", on,
                                     [Line.dr(FEE_RECEIVABLE, charged), Line.cr(FEE_INCOME, charged)]))


def days_past_due(rows: list[InstallmentRow], on: date) -> int:
    """Days from the oldest unsettled installment due before ``on`` to ``on`` (0 when none)."""
    late = [row.due_date for row in rows if row.due_date < on and row.status in ("due", "overdue", "pending")
            and not row.settled]
    return (on - min(late)).days if late else 0


def _classify(loan: LoanRow, rows: list[InstallmentRow], on: date, policy: ClassificationPolicy,
              result: DayResult) -> None:
    dpd = days_past_due(rows, on)
    tier = policy.reclassify(FiveTier(loan.five_tier), dpd).value
    for name, value in (("days_past_due", dpd), ("bucket", bucket(dpd)), ("five_tier", tier)):
        if getattr(loan, name) != value:
            setattr(loan, name, value)
            result.loan_changes[name] = value
    if loan.state not in OPEN_STATES:
        return
    if loan.maturity_date <= on and all(row.settled or row.status == "written_off" for row in rows):
        target = "paid_off"
    else:
        target = "overdue" if dpd > 0 else "active"
    if target != loan.state:
        result.transition = (loan.state, target)
        loan.state = target
        result.loan_changes["state"] = target
        if target == "paid_off":
            result.loan_changes["closed_on"] = on


def eod_keys(on: date, loan_id: int, generation: int) -> KeyMaker:
    """Idempotency keys of a loan's end-of-day entries: ``eod:<date>:<step>:<loan>[:g<generation>]``."""
    suffix = f":g{generation}" if generation else ""
    return lambda step: f"eod:{on.isoformat()}:{step}:{loan_id}{suffix}"
