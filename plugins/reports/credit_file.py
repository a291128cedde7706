"""The loan-level credit-reporting file (征信报送明细): one row per account per month, PBoC record 210 fields.

Every loan open at some point of the month is reported: opened by the month's end and not closed before
its start. The row carries the monthly fields of DOMAIN.md (account status, balance, due and paid this
month, last repayment, overdue periods and amounts by age band, remaining periods, five-tier class) and
the 24-month repayment grid, oldest month first (:func:`grid_symbol`):

====== ===============================================================================
symbol meaning
====== ===============================================================================
``/``  the month ended before the account was opened
``*``  nothing fell due in the month and nothing was overdue at its end
``N``  everything due in the month was paid by its due date
``M``  paid after the due date but by the month's end
``1-7`` overdue at the month's end by 1-30, 31-60, ... and over 180 days
``C``  closed normally in the month (paid off or prepaid)
``B``  written off in the month (bad debt)
====== ===============================================================================

A written-off account is reported as 损失 (class 5) in its closing month. Report-time codes: 10 the
account opened this month, 20 it closed this month, 40 it was overdue at the previous month's end and no
longer is, 30 otherwise. The identifiers (name, ID number) are the file's purpose and are written in full
unless the plugin's ``mask_pii`` setting is on (for test exports).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.customers.parties import Customer
from core.customers.pii import mask_id_number, mask_name
from core.loans.delinquency import ClassificationPolicy, bucket, tier_code
from core.loans.models import FiveTier
from core.portfolio.positions import LoanFacts, position
from plugins.reports.books import cash_received, iter_loans, last_receipts, principal_balances
from plugins.reports.writers import Table, Value

ZERO = Decimal(0)
HEADINGS = (
    "report_month", "account_id", "report_time_code", "account_type", "name", "id_type", "id_number",
    "opened_on", "maturity_date", "credit_amount", "currency", "repayment_frequency", "total_periods",
    "account_status", "five_tier", "balance", "remaining_periods", "due_this_month", "paid_this_month",
    "last_repayment_date", "last_repayment_amount", "overdue_periods", "overdue_amount",
    "overdue_principal_31_60", "overdue_principal_61_90", "overdue_principal_91_180", "overdue_principal_over_180",
    "grid_24",
)
BANDS = ((31, 60), (61, 90), (91, 180), (181, None))


def month_end(day: date) -> date:
    return day + relativedelta(day=31)


def grid_symbol(loan: LoanFacts, first: date, last: date) -> str:
    """The grid symbol of the month ``first``..``last`` (``last`` may be cut short by the report date)."""
    if last < loan.disbursed_on:
        return "/"
    if loan.closed_on is not None and first <= loan.closed_on <= last and loan.closed_by(last):
        return "B" if loan.state == "written_off" else "C"
    dpd = loan.days_past_due(last)
    if dpd > 0:
        return bucket(dpd)[1:]
    dues = [d for d in loan.installments if first <= d.due_date <= last]
    if not dues:
        return "*"
    late = any(d.paid_on is not None and d.paid_on > d.due_date for d in dues)
    return "M" if late else "N"


def grid(loan: LoanFacts, end: date) -> str:
    """The 24-month grid ending with the month of ``end``, oldest month first."""
    month_start = end.replace(day=1)
    symbols = []
    for back in range(23, -1, -1):
        first = month_start - relativedelta(months=back)
        symbols.append(grid_symbol(loan, first, end if back == 0 else month_end(first)))
    return "".join(symbols)


def _report_code(loan: LoanFacts, start: date, end: date) -> str:
    if loan.closed_on is not None and start <= loan.closed_on <= end and loan.closed_by(end):
        return "20"
    if start <= loan.disbursed_on <= end:
        return "10"
    if loan.days_past_due(start - timedelta(days=1)) > 0 and loan.days_past_due(end) == 0:
        return "40"
    return "30"


def _status(loan: LoanFacts, end: date, dpd: int) -> str:
    if loan.closed_by(end):
        return "4" if loan.state == "written_off" else "3"
    return "2" if dpd > 0 else "1"


def credit_rows(session: Session, start: date, end: date, policies: tuple[ClassificationPolicy, ...],
                mask_pii: bool = False) -> Table:
    """The file's rows for the month ``start``..``end``, by account id."""
    rows: list[tuple[Value, ...]] = []
    for chunk in iter_loans(session, opened_by=end, open_after=start):
        ids = [loan.id for loan in chunk]
        balances = principal_balances(session, ids, end)
        paid = cash_received(session, ids, start, end)
        last = last_receipts(session, ids, end)
        people = {c.id: c for c in session.scalars(select(Customer).where(
            Customer.id.in_({loan.customer_id for loan in chunk})))}
        for loan in chunk:
            at_end = position(loan, end, balances[loan.id], policies)
            overdue = at_end.overdue
            bands = [sum((d.principal_owed_at(end) for d in overdue
                          if lo <= (end - d.due_date).days and (hi is None or (end - d.due_date).days <= hi)), ZERO)
                     for lo, hi in BANDS]
            person = people[loan.customer_id]
            last_day, last_amount = last.get(loan.id, (None, None))
            rows.append((
                f"{start:%Y-%m}", str(loan.id), _report_code(loan, start, end), "D1",
                mask_name(person.name) if mask_pii else person.name, "10",
                mask_id_number(person.id_number) if mask_pii else person.id_number,
                loan.disbursed_on, loan.maturity_date, loan.principal, "CNY", "03",
                sum(1 for d in loan.installments if d.period > 0),
                _status(loan, end, at_end.days_past_due),
                tier_code(FiveTier.LOSS if at_end.written_off else at_end.five_tier), at_end.balance,
                loan.remaining_periods(end),
                sum((d.amount for d in loan.installments if start <= d.due_date <= end), ZERO),
                paid.get(loan.id, ZERO), last_day, last_amount, len(overdue),
                at_end.overdue_amount, *bands, grid(loan, end),
            ))
    return Table(title=f"征信报送 {start:%Y-%m}", headings=HEADINGS, rows=tuple(rows))
