"""A six-loan portfolio, seeded row by row with its journal, for the report tests (report month 2026-03).

====== ========= ========== =================================================================== ===========
loan   principal disbursed  installments (principal + interest, monthly)                        by 03-31
====== ========= ========== =================================================================== ===========
A      12,000    2026-01-10 12 x (1,000 + 100) from 02-10; 02-10 and 03-10 paid on time          current
B      6,000     2025-12-05 6 x (1,000 + 60) from 01-05; 01-05 on time, 02-05 paid 02-20,        26 dpd
                            03-05 unpaid
C      3,000     2025-10-20 3 x (1,000 + 30) from 2025-11-20; only the first paid                101 dpd
D      5,000     2025-11-15 5 x 1,000 from 12-15 (+50 interest on the first three, paid on       prepaid
                            time); the last two prepaid on 2026-03-12                             03-12
E      2,000     2026-03-20 2 x (1,000 + 20) from 04-20                                          new
F      4,000     2025-06-01 4 x (1,000 + 40) from 2025-07-01; only the first paid; written off   written off
                            on 2026-03-15                                                         03-15
====== ========= ========== =================================================================== ===========

Every receipt is posted Dr 1002.sandbox_bank / Cr 1303 principal / Cr 6011 interest on its day, every
disbursement Dr 1303 / Cr 1002.sandbox_bank, the write-off Dr 6702 / Cr 1303.

Applications decided (state_transitions, UTC times): 1, 2 approved and 4 rejected in March; 3 approved at
2026-02-28T23:30Z, which is 03-01 07:30 in Shanghai (March); 5 approved at 2026-02-28T15:00Z, 02-28
23:00 in Shanghai (February).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from core.customers.parties import Customer
from core.ledger import Line, cash_clearing, post
from core.ledger.accounts import INTEREST_INCOME, PRINCIPAL_RECEIVABLE, WRITE_OFF_EXPENSE
from core.loans.contract import Contract
from core.loans.models import Loan, LoanInstallment
from core.schedule import LoanTerms, Method
from core.states import StateTransition

D = Decimal
CASH = cash_clearing("sandbox_bank")
PEOPLE = (("张三", "110101199003070935"), ("李四", "11010519491231002X"), ("王五", "440304198506151237"))


def _loan(session: Session, customer_id: int, principal: int, disbursed: date, dues: list[tuple], *,
          state: str = "active", closed_on: date | None = None) -> Loan:
    """``dues``: (due date, principal, interest, paid_on or None, status)."""
    contract = Contract(LoanTerms(D(principal), D("0.12"), len(dues), disbursed, method=Method.EQUAL_PRINCIPAL))
    loan = Loan(customer_id=customer_id, product_code="cash", product_version_id=1, contract=contract,
                payment_channel="sandbox_bank", disbursed_on=disbursed, maturity_date=dues[-1][0], state=state,
                closed_on=closed_on)
    session.add(loan)
    session.flush()
    for period, (due, p, i, paid_on, status) in enumerate(dues, start=1):
        paid = paid_on is not None
        session.add(LoanInstallment(loan_id=loan.id, period=period, start=due - relativedelta(months=1), due_date=due,
                                    principal=D(p), interest=D(i), paid_principal=D(p) if paid else D(0),
                                    paid_interest=D(i) if paid else D(0), interest_accrued=D(i) if paid else D(0),
                                    status=status, paid_on=paid_on))
    post(session, key=f"disb-{loan.id}", event="disbursement", business_date=disbursed, loan_id=loan.id,
         lines=[Line.dr(PRINCIPAL_RECEIVABLE, principal), Line.cr(CASH, principal)])
    return loan


def _receipt(session: Session, loan: Loan, day: date, principal: int, interest: int) -> None:
    lines = [Line.dr(CASH, principal + interest), Line.cr(PRINCIPAL_RECEIVABLE, principal)]
    if interest:
        lines.append(Line.cr(INTEREST_INCOME, interest))
    post(session, key=f"rcpt-{loan.id}-{day}", event="repayment", business_date=day, loan_id=loan.id, lines=lines)


def _monthly(first: date, count: int, principal: int, interest: int, paid: dict[int, date | None],
             unpaid_status: str = "pending") -> list[tuple]:
    dues = []
    for k in range(count):
        due = first + relativedelta(months=k)
        paid_on = paid.get(k + 1)
        dues.append((due, principal, interest, paid_on, "paid" if paid_on else unpaid_status))
    return dues


def seed(session: Session) -> dict[str, Loan]:
    """Create the portfolio; returns the loans by letter."""
    people = []
    for name, id_number in PEOPLE:
        person = Customer(name=name, id_number=id_number, phone="13812345678")
        session.add(person)
        session.flush()
        people.append(person.id)
    loans: dict[str, Loan] = {}
    a = loans["A"] = _loan(session, people[0], 12000, date(2026, 1, 10),
                           _monthly(date(2026, 2, 10), 12, 1000, 100, {1: date(2026, 2, 10), 2: date(2026, 3, 10)}))
    _receipt(session, a, date(2026, 2, 10), 1000, 100)
    _receipt(session, a, date(2026, 3, 10), 1000, 100)
    b_dues = _monthly(date(2026, 1, 5), 6, 1000, 60, {1: date(2026, 1, 5), 2: date(2026, 2, 20)})
    b_dues[2] = (*b_dues[2][:4], "overdue")
    b = loans["B"] = _loan(session, people[1], 6000, date(2025, 12, 5), b_dues, state="overdue")
    _receipt(session, b, date(2026, 1, 5), 1000, 60)
    _receipt(session, b, date(2026, 2, 20), 1000, 60)
    c = loans["C"] = _loan(session, people[2], 3000, date(2025, 10, 20),
                           _monthly(date(2025, 11, 20), 3, 1000, 30, {1: date(2025, 11, 20)}, "overdue"),
                           state="overdue")
    _receipt(session, c, date(2025, 11, 20), 1000, 30)
    d_dues = _monthly(date(2025, 12, 15), 5, 1000, 50,
                      {1: date(2025, 12, 15), 2: date(2026, 1, 15), 3: date(2026, 2, 15), 4: date(2026, 3, 12),
                       5: date(2026, 3, 12)})
    d_dues[3] = (d_dues[3][0], 1000, 0, *d_dues[3][3:])
    d_dues[4] = (d_dues[4][0], 1000, 0, *d_dues[4][3:])
    d = loans["D"] = _loan(session, people[0], 5000, date(2025, 11, 15), d_dues, state="prepaid_closed",
                           closed_on=date(2026, 3, 12))
    for day in (date(2025, 12, 15), date(2026, 1, 15), date(2026, 2, 15)):
        _receipt(session, d, day, 1000, 50)
    _receipt(session, d, date(2026, 3, 12), 2000, 0)
    loans["E"] = _loan(session, people[1], 2000, date(2026, 3, 20), _monthly(date(2026, 4, 20), 2, 1000, 20, {}))
    f = loans["F"] = _loan(session, people[2], 4000, date(2025, 6, 1),
                           _monthly(date(2025, 7, 1), 4, 1000, 40, {1: date(2025, 7, 1)}, "written_off"),
                           state="written_off", closed_on=date(2026, 3, 15))
    _receipt(session, f, date(2025, 7, 1), 1000, 40)
    post(session, key=f"wo-{f.id}", event="write_off", business_date=date(2026, 3, 15), loan_id=f.id,
         lines=[Line.dr(WRITE_OFF_EXPENSE, 3000), Line.cr(PRINCIPAL_RECEIVABLE, 3000)])
    decided = ((1, "approved", datetime(2026, 3, 3, 2, 0, tzinfo=UTC)),
               (2, "approved", datetime(2026, 3, 31, 12, 0, tzinfo=UTC)),
               (3, "approved", datetime(2026, 2, 28, 23, 30, tzinfo=UTC)),
               (4, "rejected", datetime(2026, 3, 18, 6, 0, tzinfo=UTC)),
               (5, "approved", datetime(2026, 2, 28, 15, 0, tzinfo=UTC)))
    for entity_id, state, at in decided:
        session.add(StateTransition(entity_type="application", entity_id=entity_id, from_state="under_review",
                                    to_state=state, actor="tests", at=at))
    session.flush()
    return loans
