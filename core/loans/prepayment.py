"""Prepayment (提前还款): the quote, and paying all or part of the principal before it falls due.

The borrower pays interest for the days actually used (民法典 Art. 677): the current period's interest
is cut at the prepayment date (``broken`` interest: the outstanding principal at the period's start ×
the day-count fraction from the period's start to the prepayment date, rounded), plus the product's
prepayment fee on the principal prepaid (:class:`~core.loans.contract.PrepaymentRules`).

* **Full**: everything owed now (overdue installments with their penalty), the broken interest, all the
  principal outstanding and the fee; the loan closes as ``prepaid_closed``. The current installment is
  rewritten to what was actually paid (due on the prepayment date) and the later ones are dropped.
* **Partial**: allowed only when nothing is due or overdue; pays the broken interest, the fee and
  ``principal`` of principal, then the rest of the schedule is rebuilt by
  :func:`core.schedule.reschedule` — ``keep_term`` (same number of installments, each smaller) or
  ``keep_installment`` (same installment, fewer of them).

**Money already held** for the loan (the overpayment suspense, 溢缴款: a repayment before a due date, an
earlier excess) is netted: the quote's ``payable`` is its ``total`` less what the suspense covers, and the
prepayment applies the suspense first. A full prepayment never closes the loan with money still held
(suspense left over, or cash brought beyond ``payable``) unless the caller chose ``keep_for_refund``: the
remainder then stays in the suspense for :func:`core.loans.repayment.refund_suspense`.

Both are refused before the contract's window opens (:func:`prepayment_opens_on`: the product's
``prepayment.earliest_period``, kept in the loan's contract), whoever asks: the API, the admin, the CLI.

The interest already accrued on the current period is trued up to the broken interest first (an accrual
or its reversal), so the receivable collected is exactly what was booked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from core.errors import InvalidArgumentError
from core.ledger.accounts import (
    FEE_INCOME,
    FEE_RECEIVABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    OVERPAYMENT_SUSPENSE,
    PRINCIPAL_RECEIVABLE,
    cash_clearing,
)
from core.ledger.posting import Line
from core.loans.allocation import Allocation
from core.loans.context import (
    INSTALLMENTS,
    bring_to,
    check_value_date,
    installment_rows,
    locked_loan,
    open_event,
    post_lines,
    projected,
    reclassify,
    require_state,
    save_rows,
    suspense_of,
)
from core.loans.daily import InstallmentRow
from core.loans.errors import (
    AmountExceedsOutstandingError,
    MoneyLeftHeldError,
    PrepaymentNotAllowedError,
    PrepaymentTooEarlyError,
    QuoteChangedError,
)
from core.loans.events import ServicingEvent
from core.loans.ledger_lines import settlement_lines
from core.loans.models import Loan, LoanInstallment
from core.loans.nonaccrual import release_lines
from core.loans.repayment import OVERPAYMENT_MULTIPLE, check_overpayment, fen, positive_fen, settle
from core.money import parse_money
from core.rounding import round_money
from core.schedule import Installment, RescheduleMode, Schedule, reschedule
from core.schedule.terms import parse_enum
from core.states import LOAN_STATES

ZERO = Decimal(0)
FULL = "full"


@dataclass(frozen=True)
class PrepaymentQuote:
    """What a prepayment on ``on`` costs and what the payer still brings.

    ``total`` = owed now + broken interest + principal + fee; ``held`` is the overpayment suspense held for
    the loan, of which ``from_held`` pays part of the total; ``payable`` is the rest, the cash to bring;
    ``held_after`` is the suspense a prepayment of exactly ``payable`` leaves held.
    """

    on: date
    principal: Decimal
    broken_interest: Decimal
    fee: Decimal
    owed_now: Decimal
    full: bool
    held: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.owed_now + self.broken_interest + self.principal + self.fee

    @property
    def from_held(self) -> Decimal:
        return min(self.held, self.total)

    @property
    def payable(self) -> Decimal:
        return self.total - self.from_held

    @property
    def held_after(self) -> Decimal:
        return self.held - self.from_held

    def as_dict(self) -> dict[str, str | bool]:
        return {"on": self.on.isoformat(), "principal": fen(self.principal),
                "broken_interest": fen(self.broken_interest), "fee": fen(self.fee), "owed_now": fen(self.owed_now),
                "total": fen(self.total), "held": fen(self.held), "from_held": fen(self.from_held),
                "payable": fen(self.payable), "held_after": fen(self.held_after), "full": self.full}


def prepayment_opens_on(session: Session, loan: Loan) -> date:
    """The first day ``loan`` may be prepaid, by its contract's window (:class:`PrepaymentRules`
    ``earliest_period`` and ``earliest_unit``).

    Counted in installments: the due date of installment ``earliest_period`` (the disbursement day when it
    is 1; the maturity date when the loan has fewer installments). Counted in days, weeks or months (a
    bullet loan): that many from disbursement.
    """
    rules = loan.contract.rules.prepayment
    earliest = rules.earliest_period
    if rules.earliest_unit != "installment":
        step = {"day": relativedelta(days=earliest), "week": relativedelta(weeks=earliest)}.get(
            rules.earliest_unit, relativedelta(months=earliest))
        opens: date = loan.disbursed_on + step
        return opens
    if earliest <= 1:
        return loan.disbursed_on
    due: date | None = session.scalar(select(LoanInstallment.due_date).where(LoanInstallment.loan_id == loan.id,
                                                                           LoanInstallment.period == earliest))
    return due or loan.maturity_date


def check_prepayment_window(session: Session, loan: Loan, on: date) -> None:
    """Raise :class:`PrepaymentTooEarlyError` (field ``on``) when ``on`` is before :func:`prepayment_opens_on`."""
    opens = prepayment_opens_on(session, loan)
    if on < opens:
        raise PrepaymentTooEarlyError(f"on: this loan's contract accepts prepayment from {opens.isoformat()}",
                                      field="on", value=on.isoformat())


def _current(rows: list[InstallmentRow], on: date) -> InstallmentRow | None:
    """The installment whose period runs on ``on`` (start < on < due) or starts on it; ``None`` past maturity."""
    ahead = [row for row in rows if row.due_date > on and row.period > 0 and row.status == "pending"]
    return ahead[0] if ahead else None


def _quote(loan: Loan, rows: list[InstallmentRow], held: Decimal, on: date,
           principal: Decimal | None) -> PrepaymentQuote:
    contract = loan.contract
    rules = contract.rules
    if not rules.prepayment.allowed:
        raise PrepaymentNotAllowedError("loan_id: the contract does not allow prepayment", field="loan_id",
                                        value=loan.id)
    current = _current(rows, on)
    owed_now = sum((row.due().total for row in rows if row.open), ZERO)
    if current is None:
        raise PrepaymentNotAllowedError("on: no installment is left to prepay; repay what is due instead",
                                        field="on", value=on)
    outstanding = sum((row.principal for row in rows if row.period >= current.period), ZERO)
    terms = contract.terms
    broken = ZERO
    if current.start < on:
        broken = round_money(terms.day_count.interest(outstanding, terms.annual_rate, current.start, on),
                             terms.rounding)
    fallen_due = sum(1 for row in rows if row.period > 0 and row.due_date <= on)
    if principal is None:
        fee = rules.prepayment.fee(principal=terms.principal, prepaid=outstanding, periods_fallen_due=fallen_due,
                                   rounding=terms.rounding)
        return PrepaymentQuote(on, outstanding, broken, fee, owed_now, True, held)
    if owed_now:
        raise PrepaymentNotAllowedError(f"principal: {owed_now} is due or overdue; pay it before a partial "
                                        "prepayment", field="principal", value=principal)
    if principal >= outstanding:
        raise AmountExceedsOutstandingError(f"principal: {principal} is not less than the outstanding "
                                            f"{outstanding}; prepay in full instead", field="principal",
                                            value=principal)
    fee = rules.prepayment.fee(principal=terms.principal, prepaid=principal, periods_fallen_due=fallen_due,
                               rounding=terms.rounding)
    return PrepaymentQuote(on, principal, broken, fee, ZERO, False, held)


def prepayment_quote(session: Session, *, loan_id: int, on: date, today: date,
                     principal: object | None = None) -> PrepaymentQuote:
    """Quote a full prepayment (``principal=None``) or a partial one of ``principal`` on ``on``.

    The quote sees the loan brought to ``on`` as the prepayment itself would
    (:func:`~core.loans.context.projected`: the installments fallen due since the last end-of-day, interest to
    date, the suspense applied to them, each overdue installment's penalty to ``on``) with the suspense still
    held, and posts nothing: a prepayment of the quote's ``payable`` on ``on`` settles the loan.
    ``on`` obeys the prepayment's own date rule (:func:`~core.loans.context.check_value_date`).

    Raises:
        PrepaymentNotAllowedError: the contract forbids it, nothing is left to prepay, or (partial) something
            is due or overdue.
        PrepaymentTooEarlyError: ``on`` is before the contract's window opens (field ``on``).
        AmountExceedsOutstandingError: a partial ``principal`` would repay everything.
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``on``).
    """
    loan = locked_loan(session, loan_id)
    require_state(loan, "a prepayment")
    check_value_date(session, loan, on, today=today, field="on")
    check_prepayment_window(session, loan, on)
    wanted = None if principal is None else positive_fen(principal, "principal")
    return _quote(loan, *projected(session, loan.id, on), on, wanted)


def _true_up(session: Session, event: ServicingEvent, current: InstallmentRow, broken: Decimal, on: date) -> None:
    """Bring the current period's accrued interest to the broken interest collected."""
    delta = broken - current.interest_accrued
    if delta > 0:
        post_lines(session, event, "trueup", "prepayment_accrual", on,
                   [Line.dr(INTEREST_RECEIVABLE, delta), Line.cr(INTEREST_INCOME, delta)])
    elif delta < 0:
        post_lines(session, event, "trueup", "prepayment_accrual", on,
                   [Line.dr(INTEREST_INCOME, -delta), Line.cr(INTEREST_RECEIVABLE, -delta)])


def execute_prepayment(session: Session, loan: Loan, event: ServicingEvent, since: date | None = None, *,
                       overpayment_multiple: Decimal | None = None) -> None:
    """Carry out a recorded prepayment: the suspense held pays first, ``event.amount`` of cash the rest, any
    cash beyond that goes to the suspense. A fresh one (``overpayment_multiple`` given) checks the amount
    and that it leaves nothing held unasked; the replay after a reversal checks neither (it was accepted)."""
    on = event.business_date
    bring_to(session, loan, on, event, since)
    requested = event.params.get("principal")
    mode = str(event.params.get("mode", FULL))
    rows = installment_rows(session, loan.id)
    quote = _quote(loan, rows, suspense_of(session, loan.id), on, None if requested is None else Decimal(requested))
    if overpayment_multiple is not None:
        check_overpayment(session, loan, event.amount, overpayment_multiple)
        _check_nothing_left_held(quote, event.amount, bool(event.params.get("keep_for_refund")))
    if event.amount < quote.payable:
        raise InvalidArgumentError(f"amount: {event.amount} does not cover the {fen(quote.payable)} left to pay "
                                   f"(quote {fen(quote.total)} less {fen(quote.from_held)} held)",
                                   field="amount", value=event.amount)
    current = _current(rows, on)
    assert current is not None
    _true_up(session, event, current, quote.broken_interest, on)
    if quote.fee:
        post_lines(session, event, "fee", "prepayment_fee", on,
                   [Line.dr(FEE_RECEIVABLE, quote.fee), Line.cr(FEE_INCOME, quote.fee)])
    settled = settle(session, loan, quote.owed_now, on) if quote.owed_now else None
    excess = event.amount - quote.payable
    lines = _prepayment_lines(quote, settled, cash=event.amount, channel=event.channel or "",
                              suspense_change=excess - quote.from_held)
    if quote.full:  # the loan closes here, not in a reclassification: release its suspended income now
        lines += release_lines(session, loan.id)
    post_lines(session, event, "prepayment", "prepayment", on, lines)
    if quote.full:
        _close_schedule(session, loan, current, quote, on, event.actor)
    else:
        _reschedule(session, loan, current, quote, parse_enum(RescheduleMode, mode, "mode"))
    event.result = {**quote.as_dict(), "excess": fen(excess)}
    if not quote.full:
        reclassify(session, loan, on, event)


def _prepayment_lines(quote: PrepaymentQuote, settled: Allocation | None, *, cash: Decimal, channel: str,
                      suspense_change: Decimal) -> list[Line]:
    """Dr cash brought, Dr suspense applied (or Cr the suspense it grows by) / Cr every receivable paid."""
    credits = {PRINCIPAL_RECEIVABLE: quote.principal, INTEREST_RECEIVABLE: quote.broken_interest,
               FEE_RECEIVABLE: quote.fee}
    if settled is not None:
        for line in settlement_lines(settled):
            credits[line.account] = credits.get(line.account, ZERO) + line.credit
    lines = [Line.dr(cash_clearing(channel), cash)] if cash else []
    if suspense_change < 0:
        lines.append(Line.dr(OVERPAYMENT_SUSPENSE, -suspense_change))
    lines += [Line.cr(account, amount) for account, amount in credits.items() if amount]
    if suspense_change > 0:
        lines.append(Line.cr(OVERPAYMENT_SUSPENSE, suspense_change))
    return lines


def _close_schedule(session: Session, loan: Loan, current: InstallmentRow, quote: PrepaymentQuote, on: date,
                    actor: str) -> None:
    current.set("due_date", on)
    for name, value in (("interest", quote.broken_interest), ("interest_accrued", quote.broken_interest),
                        ("paid_interest", quote.broken_interest), ("principal", quote.principal),
                        ("paid_principal", quote.principal), ("fee", quote.fee), ("paid_fee", quote.fee),
                        ("status", "paid"), ("paid_on", on)):
        current.set(name, value)
    session.execute(delete(INSTALLMENTS).where(INSTALLMENTS.c.loan_id == loan.id,
                                               INSTALLMENTS.c.period > current.period))
    session.execute(INSTALLMENTS.update().where(INSTALLMENTS.c.id == current.id)
                    .values(due_date=on, interest=quote.broken_interest, principal=quote.principal,
                            fee=quote.fee))
    save_rows(session, [current])
    LOAN_STATES.transition(session, loan, "prepaid_closed", actor=actor, reason=f"prepaid in full on {on}")
    loan.closed_on = on
    session.flush()


def _schedule_of(loan: Loan, rows: list[InstallmentRow]) -> Schedule:
    """The loan's current schedule as :func:`core.schedule.reschedule` reads it: its installments, and its
    terms with the principal they add up to (an earlier partial prepayment made it smaller)."""
    regular = [row for row in rows if row.period > 0]
    remaining = sum((row.principal for row in regular), ZERO)
    terms = replace(loan.contract.terms, principal=remaining)
    items = []
    for row in regular:
        remaining -= row.principal
        items.append(Installment(row.period, row.start, row.due_date, row.principal, row.interest, row.fee,
                                 row.principal + row.interest + row.fee, remaining))
    return Schedule(terms, tuple(items))


def _reschedule(session: Session, loan: Loan, current: InstallmentRow, quote: PrepaymentQuote,
                mode: RescheduleMode) -> None:
    rows = installment_rows(session, loan.id)
    rebuilt = reschedule(_schedule_of(loan, rows), quote.on, quote.principal, mode)
    ahead = [row for row in rebuilt.installments if row.period >= current.period]
    session.execute(delete(INSTALLMENTS).where(INSTALLMENTS.c.loan_id == loan.id,
                                               INSTALLMENTS.c.period >= current.period))
    session.execute(insert(INSTALLMENTS), [
        {"loan_id": loan.id, "period": row.period, "start": row.start, "due_date": row.due_date,
         "principal": row.principal, "interest": row.interest, "fee": row.fee, "penalty": ZERO,
         "interest_accrued": ZERO, "paid_principal": ZERO, "paid_interest": ZERO, "paid_fee": ZERO,
         "paid_penalty": ZERO, "waived_penalty": ZERO, "penalty_carry": ZERO, "late_fee": ZERO,
         "status": "pending"}
        for row in ahead])
    loan.maturity_date = rebuilt.maturity_date
    session.flush()


def _check_confirmed(quote: PrepaymentQuote, confirmed: Decimal | None) -> None:
    """The payer confirmed the quote's ``payable`` as it stands now."""
    if confirmed is not None and quote.payable != confirmed:
        raise QuoteChangedError(f"quoted_total: the quote is now {fen(quote.payable)}, not {fen(confirmed)}; "
                                "quote again", field="quoted_total", value=fen(confirmed))


def _check_nothing_left_held(quote: PrepaymentQuote, amount: Decimal, keep_for_refund: bool) -> None:
    """A full prepayment closes the loan with no suspense held unless the user chose to keep it for a refund."""
    left = quote.held_after + max(amount - quote.payable, ZERO)
    if quote.full and left and not keep_for_refund:
        raise MoneyLeftHeldError(f"keep_for_refund: the loan would close with {fen(left)} still held for the "
                                 f"borrower; bring {fen(quote.payable)} exactly, or keep the rest for a refund",
                                 field="keep_for_refund", value=fen(left))


def prepay(session: Session, *, loan_id: int, amount: object, on: date, today: date, channel: str, key: str,
           actor: str, principal: object | None = None, mode: RescheduleMode | str = RescheduleMode.KEEP_TERM,
           quoted_total: object | None = None, keep_for_refund: bool = False,
           overpayment_multiple: Decimal = OVERPAYMENT_MULTIPLE) -> ServicingEvent:
    """Prepay in full (``principal=None``) or ``principal`` of it, paying ``amount`` of cash (at least the
    quote's ``payable``, which may be zero when the suspense covers it all; any excess goes to suspense,
    within ``overpayment_multiple`` payoffs as for a repayment).

    ``quoted_total``, when given, is the ``payable`` the payer was quoted and confirms: the prepayment goes
    ahead only while :func:`prepayment_quote` on ``on`` is still exactly that (a face that shows a quote
    and then executes it passes it, so nobody pays a total they were not shown). A full prepayment that
    would close the loan with suspense still held is refused unless ``keep_for_refund``.

    Raises:
        InvalidArgumentError: ``amount`` below the quote (field ``amount``), bad ``mode`` or channel.
        QuoteChangedError: the quote is no longer ``quoted_total`` (field ``quoted_total``).
        MoneyLeftHeldError: a full prepayment would leave suspense held without ``keep_for_refund``.
        PrepaymentNotAllowedError, PrepaymentTooEarlyError, AmountExceedsOutstandingError: as
            :func:`prepayment_quote`; the last also for an amount above ``overpayment_multiple`` payoffs
            (field ``amount``).
        LoanNotServiceableError: the loan is not active or overdue.
        ServicingDateError: ``on`` is after ``today``, before the loan's last event or closed (field ``on``).
    """
    confirmed = None if quoted_total is None else parse_money(quoted_total, "quoted_total")
    money = parse_money(amount, "amount")
    cash_clearing(channel)
    wanted = None if principal is None else positive_fen(principal, "principal")
    chosen = FULL if wanted is None else parse_enum(RescheduleMode, mode, "mode").value
    loan = locked_loan(session, loan_id)
    event, new = open_event(session, loan=loan, kind="prepayment", key=key, on=on, actor=actor, amount=money,
                            channel=channel, params={"principal": None if wanted is None else str(wanted),
                                                     "mode": chosen, "keep_for_refund": keep_for_refund})
    if new:
        require_state(loan, "a prepayment")
        check_value_date(session, loan, on, today=today, field="on", event=event)
        check_prepayment_window(session, loan, on)
        if confirmed is not None:
            _check_confirmed(_quote(loan, *projected(session, loan.id, on), on, wanted), confirmed)
        execute_prepayment(session, loan, event, overpayment_multiple=overpayment_multiple)
    return event
