"""Nested limits: what a drawdown may take at every level, counted and occupied one customer at a time.

Four levels bound a drawdown, each with its limit and what is used of it:

- ``policy``: the lender-level ceiling in force on the day (:mod:`core.credit_lines.policy`) over everything
  the customer has drawn on all their lines;
- ``customer``: the customer's total limit (:class:`~core.credit_lines.models.CustomerLimit`) over the same;
- ``line``: the line's own limit over what is drawn on it;
- ``channel``: a channel's sub-limit on the line (when one is set) over what that channel has drawn on it.

What a drawdown uses (:func:`used_by_line`) is derived, never counted up and down: a drawdown whose
application is on its way to a loan (approved, signed, disbursing, or a failed payout that may be retried)
uses its amount; one whose loan is booked uses, on a revolving line, the loan's principal still
outstanding (so any repayment of principal, however it arrives, gives the limit back; a written-off loan's
principal is still owed and stays used), and on a non-revolving line the amount drawn, for good; a cancelled
or expired one uses nothing.

:func:`occupy` checks a new drawdown against every level and refuses with :class:`LimitExceededError` naming
the tightest level and what is available there. Counting and taking must not interleave: :func:`lock_line`
first locks the customer's row, then their total-limit row, then the line's (``FOR UPDATE`` on PostgreSQL;
SQLite has one writer at a time), always in that order, so two drawdowns of one customer, on one line or on
two, are decided one after the other and the second counts the first. The caller inserts the drawdown in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.credit_lines.models import ChannelSubLimit, CreditLine, CustomerLimit, Drawdown
from core.credit_lines.policy import PER_BORROWER_BALANCE, cap_on
from core.errors import LoanFactoryError
from core.loans.models import Loan, LoanInstallment
from core.origination.limits import lock_customer

ZERO = Decimal(0)
#: application states of a drawdown that use nothing
RELEASED_STATES = ("cancelled", "expired", "rejected")


class LimitExceededError(LoanFactoryError):
    """A drawdown is larger than what one level of limits has available (field ``amount``); ``level`` names
    it (``policy``, ``customer``, ``line``, ``channel``) and ``available`` says how much is left there."""

    def __init__(self, level: str, limit: Decimal, used: Decimal, amount: Decimal) -> None:
        available = max(limit - used, ZERO)
        super().__init__(f"amount: {amount:.2f} exceeds what the {level} limit has available: {available:.2f} "
                         f"(limit {limit:.2f}, used {used:.2f})", field="amount", value=amount)
        self.level, self.limit, self.used, self.available = level, limit, used, available


@dataclass(frozen=True)
class Level:
    """One level of limits: its name, limit and what is used of it."""

    name: str
    limit: Decimal
    used: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.used, ZERO)


def used_by_line(session: Session, line_ids: list[int], *, channel: str | None = None) -> dict[int, Decimal]:
    """What each line of ``line_ids`` has in use (only ``channel``'s drawdowns, when given); see the module
    docstring for what a drawdown uses. Money is summed in Python: SQLite would sum its text through floats."""
    used = dict.fromkeys(line_ids, ZERO)
    if not line_ids:
        return used
    query = (select(Drawdown.line_id, Drawdown.amount, Application.state, CreditLine.revolving, Loan.id)
             .join(Application, Application.id == Drawdown.application_id)
             .join(CreditLine, CreditLine.id == Drawdown.line_id)
             .outerjoin(Loan, Loan.application_id == Drawdown.application_id)
             .where(Drawdown.line_id.in_(line_ids)))
    if channel is not None:
        query = query.where(Drawdown.channel == channel)
    by_loan: dict[int, int] = {}
    for line_id, amount, state, revolving, loan_id in session.execute(query):
        if state in RELEASED_STATES:
            continue
        if state == "disbursed" and revolving and loan_id is not None:
            by_loan[loan_id] = line_id
        else:
            used[line_id] += amount
    if by_loan:
        rows = session.execute(select(LoanInstallment.loan_id, LoanInstallment.principal,
                                      LoanInstallment.paid_principal)
                               .where(LoanInstallment.loan_id.in_(list(by_loan))))
        for loan_id, principal, paid in rows:
            used[by_loan[loan_id]] += principal - paid
    return used


def levels(session: Session, line: CreditLine, *, channel: str | None, on: date) -> list[Level]:
    """The levels of limits over ``line`` for a drawdown by ``channel`` on ``on``, outermost first."""
    line_ids = list(session.scalars(select(CreditLine.id).where(CreditLine.customer_id == line.customer_id)))
    per_line = used_by_line(session, line_ids)
    customer_used = sum(per_line.values(), ZERO)
    result = []
    cap = cap_on(PER_BORROWER_BALANCE, on)
    if cap is not None:
        result.append(Level("policy", cap.amount, customer_used))
    total = session.get(CustomerLimit, line.customer_id)
    if total is not None:
        result.append(Level("customer", total.total_limit, customer_used))
    result.append(Level("line", line.limit, per_line.get(line.id, ZERO)))
    if channel is not None:
        sub = session.get(ChannelSubLimit, (line.id, channel))
        if sub is not None:
            result.append(Level("channel", sub.limit, used_by_line(session, [line.id], channel=channel)[line.id]))
    return result


def lock_line(session: Session, line_id: int) -> CreditLine | None:
    """The line, locked for the transaction with its customer: the customer's row, their total-limit row and
    the line's, in that order (the order every writer of a customer's limits and loans takes them)."""
    customer_id = session.scalar(select(CreditLine.customer_id).where(CreditLine.id == line_id))
    if customer_id is None:
        return None
    lock_customer(session, customer_id)
    session.execute(select(CustomerLimit.customer_id).where(CustomerLimit.customer_id == customer_id)
                    .with_for_update())
    return session.get(CreditLine, line_id, with_for_update=True, populate_existing=True)


def occupy(session: Session, line: CreditLine, amount: Decimal, *, channel: str, on: date) -> list[Level]:
    """Check that ``amount`` fits every level of ``line`` (locked by :func:`lock_line`); returns the levels
    as they were before it.

    Raises:
        LimitExceededError: naming the level with the least available of those without room (of equals, the
            innermost: the line's own limit is the one the borrower sees).
    """
    found = levels(session, line, channel=channel, on=on)
    short = [(level.available, -depth, level) for depth, level in enumerate(found) if amount > level.available]
    if short:
        level = min(short, key=lambda item: item[:2])[2]
        raise LimitExceededError(level.name, level.limit, level.used, amount)
    return found
