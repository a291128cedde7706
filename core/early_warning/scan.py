"""The early-warning scan over the book's lines, the handling of a warning, and the coverage measure.

:func:`scan` reads the signals of every active or frozen line from the books (the days past due of the
customer's loans, as end-of-day keeps them; the drawdowns of the last days against the limit) and applies
each rule of the version in force (:func:`core.early_warning.versions.rules_in_force`). A rule that fires on
a line without an open warning of that rule raises an :class:`~core.early_warning.models.EarlyWarning` and
takes its action through the line's life cycle (:mod:`core.credit_lines.lifecycle`, so the freeze or the
reduction is an audited line event like an operator's, with the rule in its reason). Run it after
end-of-day (``loanfactory early-warning scan``); a second run the same day raises nothing new.

:func:`handle_warning` closes a warning (``handled`` or ``dismissed``) with the operator's note, audited.
:func:`coverage` is 预警覆盖率: of the lines whose customer has a loan past due today, the share that had a
warning raised on or before the day the oldest of those loans fell due unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.backoffice.audit import record
from core.credit_lines import lifecycle
from core.credit_lines.limits import RELEASED_STATES
from core.credit_lines.models import CreditLine, Drawdown
from core.early_warning.models import EarlyWarning
from core.early_warning.rules import Rule
from core.early_warning.versions import RuleSet, rules_in_force
from core.errors import InvalidArgumentError, WrongStateError
from core.loans.models import Loan, LoanInstallment
from core.origination.errors import NotFoundError
from core.origination.published import offer_of_version

ACTOR = "system:early_warning"
LIVE = ("active", "overdue")
FEN = Decimal("0.01")


def _days_past_due(session: Session, customer_id: int) -> int:
    return int(session.scalar(select(func.max(Loan.days_past_due)).where(
        Loan.customer_id == customer_id, Loan.state.in_(LIVE))) or 0)


def _drawn_since(session: Session, line_id: int, since: date) -> Decimal:
    amounts = session.scalars(select(Drawdown.amount).join(Application, Application.id == Drawdown.application_id)
                              .where(Drawdown.line_id == line_id, Application.state.not_in(RELEASED_STATES),
                                     Drawdown.created_at >= datetime.combine(since, datetime.min.time(), UTC)))
    return sum(amounts, Decimal(0))


def signal_value(session: Session, line: CreditLine, rule: Rule, today: date) -> Decimal | None:
    """The value of ``rule``'s signal on ``line`` when the rule fires, else ``None``."""
    if rule.signal == "days_past_due":
        days = _days_past_due(session, line.customer_id)
        assert rule.min_days_past_due is not None
        return Decimal(days) if days >= rule.min_days_past_due else None
    assert rule.window_days is not None and rule.min_share is not None
    if line.limit <= 0:
        return None
    share = _drawn_since(session, line.id, today - timedelta(days=rule.window_days - 1)) / line.limit
    return share.quantize(Decimal("0.0001")) if share >= rule.min_share else None


def _act(session: Session, line: CreditLine, rule: Rule, reason: str, now: datetime) -> None:
    if rule.action == "freeze" and line.state == "active":
        lifecycle.freeze(session, line, actor=ACTOR, reason=reason, now=now)
    elif rule.action == "reduce_limit":
        assert rule.reduce_to is not None
        reduced = (line.limit * rule.reduce_to).quantize(FEN, rounding=ROUND_DOWN)
        offer = offer_of_version(session, line.product_version_id)
        lifecycle.adjust(session, line, offer, reduced, actor=ACTOR, reason=reason, now=now)


def scan(session: Session, today: date, *, rule_set: RuleSet | None = None,
         now: datetime | None = None) -> list[EarlyWarning]:
    """Apply the rules in force (or ``rule_set``) to every active or frozen line; the warnings raised."""
    now = now or datetime.now(UTC)
    rules = rule_set or rules_in_force(session)
    open_pairs = set(session.execute(select(EarlyWarning.line_id, EarlyWarning.rule_code)
                                     .where(EarlyWarning.state == "open")).tuples())
    line_ids = list(session.scalars(select(CreditLine.id).where(CreditLine.state.in_(("active", "frozen")))
                                    .order_by(CreditLine.id)))
    raised = []
    for line_id in line_ids:
        line = lifecycle.line_for_update(session, line_id)
        for rule in rules.rules:
            if (line.id, rule.code) in open_pairs:
                continue
            value = signal_value(session, line, rule, today)
            if value is None:
                continue
            warning = EarlyWarning(line_id=line.id, customer_id=line.customer_id, rule_code=rule.code,
                                   rule_set_version=rules.version, severity=rule.severity, signal=rule.signal,
                                   value=str(value), action=rule.action, state="open", raised_on=today)
            session.add(warning)
            raised.append(warning)
            open_pairs.add((line.id, rule.code))
            _act(session, line, rule, f"early warning {rule.code} (rules v{rules.version}): {rule.signal} {value}",
                 now)
    session.flush()
    return raised


def handle_warning(session: Session, warning_id: int, *, actor: str, outcome: str, note: str,
                   now: datetime | None = None) -> EarlyWarning:
    """Close an open warning as ``handled`` or ``dismissed`` with the operator's note (audited).

    Raises:
        NotFoundError: no such warning. WrongStateError: it is closed already.
        InvalidArgumentError: another outcome, or no note (field ``outcome`` or ``note``).
    """
    if outcome not in ("handled", "dismissed"):
        raise InvalidArgumentError("outcome: handled or dismissed", field="outcome", value=outcome)
    if not (note or "").strip():
        raise InvalidArgumentError("note: say how the warning was handled", field="note")
    warning = session.get(EarlyWarning, warning_id, with_for_update=True)
    if warning is None:
        raise NotFoundError(f"warning {warning_id} not found", field="warning_id", value=warning_id)
    if warning.state != "open":
        raise WrongStateError(f"state: warning {warning_id} is {warning.state} already", field="state",
                              value=warning.state)
    warning.state, warning.handled_by, warning.handled_at = outcome, actor, now or datetime.now(UTC)
    warning.note = note.strip()[:500]
    record(session, actor=actor, action=f"early_warning.{outcome}", entity_type="early_warning",
           entity_id=warning.id, before={"state": "open"}, after={"state": outcome}, comment=warning.note)
    return warning


@dataclass(frozen=True)
class Coverage:
    """预警覆盖率: lines whose customer is past due, and how many of them were warned in time."""

    delinquent_lines: int
    warned_in_time: int

    @property
    def ratio(self) -> Decimal | None:
        if not self.delinquent_lines:
            return None
        return (Decimal(self.warned_in_time) / self.delinquent_lines).quantize(Decimal("0.0001"))


def coverage(session: Session) -> Coverage:
    """The coverage of the book as it stands (see the module docstring)."""
    first_unpaid = dict(session.execute(
        select(Loan.customer_id, func.min(LoanInstallment.due_date))
        .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
        .where(Loan.state.in_(LIVE), Loan.days_past_due > 0, LoanInstallment.status == "overdue")
        .group_by(Loan.customer_id)).tuples().all())
    if not first_unpaid:
        return Coverage(0, 0)
    lines = session.execute(select(CreditLine.id, CreditLine.customer_id).where(
        CreditLine.customer_id.in_(list(first_unpaid)))).all()
    earliest = dict(session.execute(select(EarlyWarning.line_id, func.min(EarlyWarning.raised_on))
                                    .group_by(EarlyWarning.line_id)).tuples().all())
    warned = sum(1 for line_id, customer in lines
                 if line_id in earliest and earliest[line_id] <= first_unpaid[customer])
    return Coverage(len(lines), warned)
