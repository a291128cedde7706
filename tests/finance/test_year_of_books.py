"""A year of a small book, month by month, every figure derived here from the installments (never the ledger).

Four loans of 12,000.00 at 12% over 12 months from 2026-01-05 (first due 02-05): A pays each installment on
its due date; B pays what it owes ten days after each due date; C never pays, goes on non-accrual at 91 days
past due (2026-05-07), is written off on 2026-09-15 and 1,000.00 is recovered on 2026-11-10; D pays nothing
until it is 100 days past due (2026-05-16), then everything it owes, which cures it, and then pays each
installment on its due date. Every day end-of-day runs; at each month end a five-tier provision is booked
and the test checks, from the installments alone:

* the allowance held equals 正常 0, 关注 2%, 次级 25%, 可疑 50%, 损失 100% of each class's principal plus 1% of
  all principal, each rounded to the fen (days past due and class worked out here);
* the off-balance memo holds the accrued unpaid interest and the unpaid penalty of the loans on non-accrual;
* the month's income is, per loan, what it accrued (interest accrued, penalty charged less waived) while on
  accrual, and only what it paid while on non-accrual;
* the month's vouchers balance one by one and add up to the month's postings.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from servicing.helpers import book, installments, seed_calendar
from sqlalchemy import select

from core.db.base import Base, make_engine, make_session_factory
from core.eod import run_eod
from core.finance.provision_posting import book_provision
from core.finance.vouchers import vouchers
from core.ledger import JournalEntry, Posting
from core.ledger import accounts as acc
from core.loans.adjustments import write_off
from core.loans.models import Loan
from core.loans.recovery import recover
from core.loans.repayment import amount_due, repay
from core.portfolio.measures import allowance
from loanfactory.models import load_models

START, END = date(2026, 1, 5), date(2026, 12, 31)
RATIOS = ((360, D(1)), (270, D("0.50")), (90, D("0.25")), (0, D("0.02")))
WRITE_OFF, RECOVERY, CURE = date(2026, 9, 15), date(2026, 11, 10), date(2026, 5, 16)


def fen(amount: D) -> D:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def days_past_due(rows, day: date) -> int:
    late = [r.due_date for r in rows if r.due_date < day and r.status != "written_off"
            and (r.paid_on is None or r.paid_on > day)]
    return (day - min(late)).days if late else 0


def ratio(dpd: int) -> D:
    return next((r for after, r in RATIOS if dpd > after), D(0))


def operate(session, day: date, ids: dict[str, int]) -> None:
    def pay(name: str, amount: D, key: str) -> None:
        if amount > 0:
            repay(session, loan_id=ids[name], amount=amount, on=day, today=day, channel="sandbox_bank", key=key,
                  actor="tests")

    for row in installments(session, ids["A"]):
        if row.due_date == day:
            pay("A", row.principal + row.interest, f"A-{day}")
    if any(row.due_date + timedelta(days=10) == day for row in installments(session, ids["B"])):
        pay("B", amount_due(session, loan_id=ids["B"], on=day), f"B-{day}")
    if day == CURE or (day > CURE and any(row.due_date == day for row in installments(session, ids["D"]))):
        pay("D", amount_due(session, loan_id=ids["D"], on=day), f"D-{day}")
    if day == WRITE_OFF:
        write_off(session, loan_id=ids["C"], on=day, key="C-wo", actor="tests")
    if day == RECOVERY:
        recover(session, loan_id=ids["C"], amount="1000.00", on=day, today=day, channel="sandbox_bank",
                key="C-rec", actor="tests")


def ledger_net(session, account: str, first: date, last: date) -> D:
    rows = session.execute(select(Posting.debit, Posting.credit).join(JournalEntry).where(
        Posting.account == account, JournalEntry.business_date.between(first, last)))
    return sum((d - c for d, c in rows), D(0))


def test_a_year_of_provisions_memo_income_and_vouchers_from_first_principles(tmp_path):
    load_models()
    engine = make_engine(f"sqlite:///{tmp_path}/year.sqlite3")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    seed_calendar(session)
    ids = {name: book(session, principal="12000.00", rate="0.12", start=START, key=f"year-{name}").id
           for name in "ABCD"}
    session.commit()
    suspended_since: dict[str, date] = {}
    recognised_before = D(0)
    first_of_month = START
    day = START + timedelta(days=1)
    checked_months = 0
    seen: list[tuple[D, D, D]] = []   # each month's allowance, memo and income, to show the year moved them
    while day <= END:
        operate(session, day, ids)
        run_eod(session, day)
        session.commit()
        for name in ids:  # the non-accrual status by the policy's rule, worked out here
            rows = installments(session, ids[name])
            dpd = days_past_due(rows, day)
            if name not in suspended_since and dpd > 90 and session.get(Loan, ids[name]).state != "written_off":
                suspended_since[name] = day
            elif name in suspended_since and dpd == 0 and name != "C":
                del suspended_since[name]
        if month_end(day):
            book_provision(session, day)
            session.commit()
            session.expire_all()
            by_class: dict[D, D] = {}
            total = D(0)
            memo_interest = memo_penalty = recognised = D(0)
            for name, loan_id in ids.items():
                rows = installments(session, loan_id)
                written_off = session.get(Loan, loan_id).state == "written_off"
                if name in suspended_since or written_off:
                    recognised += sum((r.paid_interest + r.paid_penalty for r in rows), D(0))
                else:
                    recognised += sum((r.interest_accrued + r.penalty - r.waived_penalty for r in rows), D(0))
                if written_off:
                    continue
                principal = sum((r.principal - r.paid_principal for r in rows), D(0))
                if principal:
                    rate = ratio(days_past_due(rows, day))
                    by_class[rate] = by_class.get(rate, D(0)) + principal
                    total += principal
                if name in suspended_since:
                    memo_interest += sum((r.interest_accrued - r.paid_interest for r in rows), D(0))
                    memo_penalty += sum((r.penalty - r.paid_penalty - r.waived_penalty for r in rows), D(0))
            required = sum((fen(p * r) for r, p in by_class.items()), D(0)) + fen(total * D("0.01"))
            assert allowance(session, day) == required, day
            assert ledger_net(session, acc.MEMO_INTEREST, START, day) == memo_interest, day
            assert ledger_net(session, acc.MEMO_PENALTY, START, day) == memo_penalty, day
            income = -sum((ledger_net(session, a, first_of_month, day)
                           for a in (acc.INTEREST_INCOME, acc.PENALTY_INCOME, acc.FEE_INCOME)), D(0))
            assert income == recognised - recognised_before, day
            seen.append((required, memo_interest + memo_penalty, income))
            found = vouchers(session, first_of_month, day)
            assert all(v.total_debit == v.total_credit for v in found)
            month_debits = sum((d for (d,) in session.execute(select(Posting.debit).join(JournalEntry).where(
                JournalEntry.business_date.between(first_of_month, day)))), D(0))
            assert sum((v.total_debit for v in found), D(0)) == month_debits, day
            recognised_before, first_of_month = recognised, day + timedelta(days=1)
            checked_months += 1
        day += timedelta(days=1)
    assert checked_months == 12
    assert max(memo for _, memo, _ in seen) > 0 and seen[-1][1] == 0     # on non-accrual mid-year, none at the end
    assert min(income for _, _, income in seen) < seen[0][2] < max(income for _, _, income in seen)
    assert len({required for required, _, _ in seen}) > 6
    assert suspended_since.keys() == {"C"} and "D" not in suspended_since
    session.close()
    engine.dispose()
