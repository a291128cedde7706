"""Closing and reopening an accounting month, each under dual control (maker-checker) and audited.

A finance user files the close of a month (:func:`request_close`); a second finance user approves it
(:func:`decide_period_change`), which writes the :class:`~core.ledger.periods.ClosedPeriod` in the same
transaction. From then on nothing can post an entry dated in that month (:mod:`core.ledger.periods`:
the ledger's posting functions refuse it, and so does PostgreSQL). Reopening is the same two steps
(:func:`request_reopen`, then an approval), deleting the row; both moves are in the audit log
(``period.close`` / ``period.reopen``) beside the requests and decisions.

A month may be closed only when end-of-day has closed its last day (so every accrual, penalty and
non-accrual entry of the month is in), and not twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.backoffice.audit import ChangeRequest, decide_change, record, request_change
from core.backoffice.users import User
from core.businessday.closes import last_closed
from core.errors import InvalidArgumentError, LoanFactoryError
from core.ledger.periods import ClosedPeriod, closed_period_of

ENTITY = "accounting_period"


class PeriodStateError(LoanFactoryError):
    """A month is closed when a close is asked for, open when a reopen is, or its days are not all closed yet
    (``field="month"``)."""


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of ``month`` (``YYYY-MM``).

    Raises:
        InvalidArgumentError: ``month`` is not ``YYYY-MM`` (field ``month``).
    """
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidArgumentError(f"month: {month!r} is not a month (YYYY-MM)", field="month",
                                   value=month) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def request_close(session: Session, *, maker: User, month: str, reason: str = "") -> ChangeRequest:
    """File the close of ``month``; a second user must approve it.

    Raises:
        PeriodStateError: the month is closed, or end-of-day has not closed its last day.
        PermissionDeniedError: ``maker`` may not request it.
    """
    first, last = month_bounds(month)
    if closed_period_of(session, first) is not None:
        raise PeriodStateError(f"month: {month} is closed already", field="month", value=month)
    done = last_closed(session)
    if done is None or done < last:
        raise PeriodStateError(f"month: end-of-day has closed through {done or 'no day yet'}, not {last}; close "
                               "the month's days first", field="month", value=month)
    return request_change(session, maker=maker, kind="period_close", entity_type=ENTITY, entity_id=month,
                          params={"month": month}, reason=reason)


def request_reopen(session: Session, *, maker: User, month: str, reason: str) -> ChangeRequest:
    """File the reopening of closed ``month``, with the reason; a second user must approve it.

    Raises:
        PeriodStateError: the month is not closed.
        InvalidArgumentError: no reason is given (field ``reason``).
    """
    first, _ = month_bounds(month)
    if closed_period_of(session, first) is None:
        raise PeriodStateError(f"month: {month} is not closed", field="month", value=month)
    if not reason.strip():
        raise InvalidArgumentError("reason: reopening a closed month needs a reason", field="reason")
    return request_change(session, maker=maker, kind="period_reopen", entity_type=ENTITY, entity_id=month,
                          params={"month": month}, reason=reason)


def decide_period_change(session: Session, change: ChangeRequest, *, checker: User, approve: bool,
                         comment: str = "") -> ChangeRequest:
    """Decide a filed close or reopen as ``checker`` (not its maker) and carry an approved one out.

    Raises:
        FourEyesError: ``checker`` filed the request.
        PermissionDeniedError: ``checker`` may not approve it.
        ChangeRequestClosedError: it was decided already.
        PeriodStateError: the month changed state since it was filed.
    """
    if change.kind not in ("period_close", "period_reopen"):
        raise InvalidArgumentError(f"kind: {change.kind} is not a period change", field="kind", value=change.kind)
    decide_change(session, change, checker=checker, approve=approve, comment=comment)
    if not approve:
        return change
    month = str(change.params["month"])
    first, last = month_bounds(month)
    closed = closed_period_of(session, first)
    if change.kind == "period_close":
        if closed is not None:
            raise PeriodStateError(f"month: {month} was closed meanwhile", field="month", value=month)
        session.add(ClosedPeriod(first_day=first, last_day=last, requested_by=change.maker,
                                 approved_by=checker.username))
        action = "period.close"
    else:
        if closed is None:
            raise PeriodStateError(f"month: {month} was reopened meanwhile", field="month", value=month)
        session.execute(delete(ClosedPeriod).where(ClosedPeriod.first_day == first))
        action = "period.reopen"
    session.flush()
    record(session, actor=checker.username, action=action, entity_type=ENTITY, entity_id=month,
           before={"closed": change.kind == "period_reopen"}, after={"closed": change.kind == "period_close"},
           comment=change.reason or comment)
    return change
