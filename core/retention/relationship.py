"""When a customer relationship ended: the day retention of identification and transaction records counts from.

A relationship is open while the party has a live loan (active or overdue) or an application not yet in a
final state; then it has no end (``None``). Otherwise it ended on the latest of: a loan's closing day (its
maturity for a loan written off without one), an application's decision (or creation) day, a document's
upload day. An individual's book is their own loans and applications; an enterprise's, those of its
applications and the loans booked from them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.customers.parties import INDIVIDUAL, PartyRef
from core.loans.models import Loan
from core.states import APPLICATION_STATES

LIVE_LOAN_STATES = frozenset({"active", "overdue"})


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def relationship_end(session: Session, subject: PartyRef, *, records: list[date] | None = None) -> date | None:
    """The day ``subject``'s relationship ended, or ``None`` while it is open; ``records`` adds the days of
    other records of theirs (documents) to the latest activity."""
    owner = Application.customer_id if subject.kind == INDIVIDUAL else Application.enterprise_id
    applications = session.execute(select(Application.state, Application.decided_at, Application.created_at)
                                    .where(owner == subject.id)).all()
    if subject.kind == INDIVIDUAL:
        loans_query = select(Loan.state, Loan.closed_on, Loan.maturity_date).where(Loan.customer_id == subject.id)
    else:
        loans_query = (select(Loan.state, Loan.closed_on, Loan.maturity_date)
                       .join(Application, Application.id == Loan.application_id)
                       .where(Application.enterprise_id == subject.id))
    loans = session.execute(loans_query).all()
    if any(state not in APPLICATION_STATES.terminal for state, _decided, _created in applications):
        return None
    if any(state in LIVE_LOAN_STATES for state, _closed, _maturity in loans):
        return None
    days = [*(records or []),
            *(_day(decided or created) for _state, decided, created in applications if decided or created),
            *(closed or maturity for _state, closed, maturity in loans)]
    return max(days) if days else None
