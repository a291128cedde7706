"""What every servicing operation shares: the loan under a lock, its event, its rows, bringing it to date.

An operation runs in the caller's transaction and follows one pattern: lock the loan
(:func:`locked_loan`), open its :class:`~core.loans.events.ServicingEvent` (:func:`open_event`, which
also makes the request idempotent and snapshots the loan for a later replay), bring the loan to the
business date with the end-of-day rule (:func:`bring_to`: interest accrued to date, what fell due, the
day's penalty), read its installments as :class:`~core.loans.daily.InstallmentRow`, change them, post the
entry, write the rows back, and let the end-of-day rule classify the loan again (:func:`reclassify`).

Entries are booked on the date they are posted on, and the books of a closed business date never change.
An operation is dated on an open day, so its entries and the end-of-day entries of the days it closes are
booked on their own dates. A replay after a reversal executes an event again with the value date it had
(its allocation, penalty and states are computed as of then) but books what it posts on the reversal's
date: the event's ``params["booked_on"]``; such an entry's memo names its value date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from core.businessday.closes import last_closed
from core.db.bulk import bulk_update
from core.errors import InvalidArgumentError
from core.ledger import JournalEntry, LoanBalance, post
from core.ledger.posting import Line
from core.loans.contract import ServicingRules
from core.loans.daily import InstallmentRow, KeyMaker, close_day
from core.loans.delinquency import DEFAULT_CLASSIFICATION, policy_on
from core.loans.errors import LoanNotServiceableError, ServicingError
from core.loans.events import LoanServicingState, ServicingEvent
from core.loans.models import Loan, LoanInstallment
from core.loans.rows import INSTALLMENT_COLUMNS, MUTABLE_INSTALLMENT, load_loans, upsert_servicing_states, write_results

ZERO = Decimal(0)
INSTALLMENTS = cast(Table, LoanInstallment.__table__)
OPEN = ("active", "overdue")


class ServicingDateError(ServicingError):
    """A servicing operation was dated where it cannot be: on or before the last closed business date,
    after today's business date, or before the loan's last booked event (:func:`check_value_date`)."""


def locked_loan(session: Session, loan_id: int) -> Loan:
    """The loan, locked for the rest of the transaction (``SELECT .. FOR UPDATE`` on PostgreSQL).

    Its ``loan_balances`` row is locked first, then its ``loans`` row: the end-of-day's SQL path locks the
    balance rows of its range and leaves the quiet loans' rows alone (:mod:`core.eod.setbased`), the
    Python rule locks the ``loans`` rows after the balance rows; taken in that order by everyone, the two
    locks serialize every change of a loan's books without a deadlock.

    Raises:
        InvalidArgumentError: no such loan (field ``loan_id``).
    """
    session.execute(select(LoanBalance.loan_id).where(LoanBalance.loan_id == loan_id).with_for_update())
    loan = session.get(Loan, loan_id, with_for_update=True, populate_existing=True)
    if loan is None:
        raise InvalidArgumentError(f"loan_id: no loan {loan_id}", field="loan_id", value=loan_id)
    return loan


def require_state(loan: Loan, operation: str, states: tuple[str, ...] = OPEN) -> None:
    """Raise :class:`LoanNotServiceableError` (field ``loan_id``) unless the loan is in one of ``states``."""
    if loan.state not in states:
        raise LoanNotServiceableError(f"loan_id: loan {loan.id} is {loan.state}; {operation} needs it "
                                      f"{' or '.join(states)}", field="loan_id", value=loan.id)


def rules_of(loan: Loan) -> ServicingRules:
    """The servicing rules of the loan's contract.

    Raises:
        StoredContractError: the stored contract is damaged (a key missing or unparsable).
    """
    return loan.contract.rules


def check_open_date(session: Session, on: date, field: str = "business_date") -> None:
    """Raise :class:`ServicingDateError` (naming ``field``) if ``on`` is a closed business date."""
    last = last_closed(session)
    if last is not None and on <= last:
        raise ServicingDateError(f"{field}: {on} is closed (end-of-day ran through {last}); "
                                 "date the operation after it", field=field, value=on)


def last_booked(session: Session, loan: Loan, excluding: ServicingEvent | None = None) -> date:
    """The date of the loan's latest servicing event (its disbursement at the least), ``excluding`` one."""
    query = select(func.max(ServicingEvent.business_date)).where(ServicingEvent.loan_id == loan.id)
    if excluding is not None:
        query = query.where(ServicingEvent.id != excluding.id)
    latest: date | None = session.scalar(query)
    return max(latest or loan.disbursed_on, loan.disbursed_on)


def check_value_date(session: Session, loan: Loan, on: date, *, today: date, field: str,
                     event: ServicingEvent | None = None) -> None:
    """The date a caller gives a repayment, prepayment or suspense operation (its value date) lies between
    the loan's last booked event and today's business date, on a day not yet closed.

    Every face passes the date it was given and its business date; ``event`` is the operation's own event,
    already opened, which does not count as the last booked one.

    Raises:
        ServicingDateError: ``on`` is after ``today``, before the loan's last booked event, or on a closed
            business date (field ``field``: the name the caller gave the date, ``paid_on`` or ``on``).
    """
    if on > today:
        raise ServicingDateError(f"{field}: {on} is after today's business date {today}", field=field, value=on)
    last = last_booked(session, loan, event)
    if on < last:
        raise ServicingDateError(f"{field}: {on} is before the loan's last booked event, on {last}", field=field,
                                 value=on)
    check_open_date(session, on, field)


def open_event(session: Session, *, loan: Loan, kind: str, key: str, on: date, actor: str,
               amount: Decimal = ZERO, channel: str | None = None,
               params: Mapping[str, Any] | None = None) -> tuple[ServicingEvent, bool]:
    """The event for request ``key``: ``(event, True)`` when new, ``(existing, False)`` on a repeat.

    Raises:
        ServicingError: ``key`` was used by a different operation (field ``key``).
    """
    existing = session.scalar(select(ServicingEvent).where(ServicingEvent.request_key == key))
    if existing is not None:
        if existing.kind != kind or existing.loan_id != loan.id or existing.amount != amount:
            raise ServicingError(f"key: {key!r} was already used for a {existing.kind} of loan {existing.loan_id}",
                                 field="key", value=key)
        return existing, False
    event = ServicingEvent(loan_id=loan.id, kind=kind, request_key=key, business_date=on, amount=amount,
                           channel=channel, params=dict(params or {}), result={}, actor=actor, generation=0)
    session.add(event)
    session.flush()
    start(session, loan, event)
    return event, True


def start(session: Session, loan: Loan, event: ServicingEvent) -> None:
    """Snapshot the loan into ``event`` and note where its entries begin (also used by the replay)."""
    event.snapshot = snapshot(session, loan)
    last_entry = session.scalar(select(func.max(JournalEntry.id)).where(JournalEntry.loan_id == loan.id))
    event.first_entry_id = (last_entry or 0) + 1
    event.params = {**(event.params or {}), "closed_through": _iso(last_closed(session))}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def key_maker(event: ServicingEvent, part: str) -> Callable[[str], str]:
    """Keys of the entries an event posts: ``svc:<event>:g<generation>:<part>:<step>``."""
    return lambda step: f"svc:{event.id}:g{event.generation}:{part}:{step}"


def booked_on(event: ServicingEvent) -> date | None:
    """The date a replay of ``event`` books its entries on (``None``: the event's own dates)."""
    booked = (event.params or {}).get("booked_on")
    return date.fromisoformat(booked) if booked else None


def value_memo(value_date: date) -> str:
    """The memo of an entry booked later than the date its amounts belong to."""
    return f"value date {value_date.isoformat()}"


def post_lines(session: Session, event: ServicingEvent, step: str, event_name: str, on: date,
               lines: list[Line]) -> JournalEntry:
    """Post one entry of ``event`` for its loan, with value date ``on``: booked on ``on``, or on the replay's
    date (:func:`booked_on`) when that is later."""
    book = max(on, booked_on(event) or on)
    return post(session, key=key_maker(event, "op")(step), event=event_name, business_date=book, lines=lines,
                loan_id=event.loan_id, memo=value_memo(on) if book != on else None)


def close_loan(session: Session, loan_id: int, day: date, keys: KeyMaker, actor: str,
               book_on: date | None = None) -> None:
    """Close ``day`` for one loan by the end-of-day rule, its entries booked on ``book_on`` when later.

    The rule (:func:`core.loans.daily.close_day`) and the writes (:func:`core.loans.rows.write_results`) are the
    end-of-day's own; only the booking date of the entries differs in a replay.
    """
    book = max(day, book_on or day)
    results = []
    for loan, _, rows in load_loans(session, day, loan_ids=[loan_id]):
        result = close_day(loan, rows, day, policy_on(DEFAULT_CLASSIFICATION, day), keys)
        if book != day:
            result.entries[:] = [replace(entry, business_date=book, memo=value_memo(day))
                                 for entry in result.entries]
        results.append((result, rows))
    write_results(session, day, results, actor=actor)


def _first_open_day(session: Session, on: date) -> date:
    """The first day :func:`bring_to` closes for ``on``: the day after the last closed one (``on`` at most)."""
    last = last_closed(session)
    return on if last is None or last >= on else last + timedelta(days=1)


def bring_to(session: Session, loan: Loan, on: date, event: ServicingEvent, since: date | None = None) -> None:
    """Close, for this loan only, every day not yet closed up to ``on`` (``since``..``on``).

    The days after the last closed business date are closed by the end-of-day rule so the operation sees
    interest accrued to date, what fell due and the penalty of the day; the later end-of-day of those
    dates finds nothing left to do for this loan.
    """
    day = _first_open_day(session, on) if since is None else since
    while day <= on:
        close_loan(session, loan.id, day, key_maker(event, f"pre{day.isoformat()}"), event.actor, booked_on(event))
        day += timedelta(days=1)
    refresh(session, loan)


def reclassify(session: Session, loan: Loan, on: date, event: ServicingEvent) -> None:
    """Days past due, bucket, class and state after the operation, by the end-of-day rule."""
    close_loan(session, loan.id, on, key_maker(event, "post"), event.actor, booked_on(event))
    refresh(session, loan)


def projected_rows(session: Session, loan_id: int, on: date) -> list[InstallmentRow]:
    """Every installment of the loan as :func:`bring_to` would leave it on ``on`` (:func:`projected`)."""
    return projected(session, loan_id, on)[0]


def projected(session: Session, loan_id: int, on: date) -> tuple[list[InstallmentRow], Decimal]:
    """Every installment of the loan, and the overpayment suspense held, as :func:`bring_to` would leave
    them on ``on``, computed in memory.

    The same end-of-day rule closes the same days (what fell due, interest accrued to date, suspense
    applied, each overdue installment's penalty), but on copies of the rows: nothing is written or posted,
    so a quote can show what an operation on ``on`` will find.
    """
    rows = installment_rows(session, loan_id)
    loaded = load_loans(session, on, loan_ids=[loan_id])
    if not loaded:
        return rows, suspense_of(session, loan_id)
    loan = loaded[0][0]
    live = [row for row in rows if row.status in ("pending", "due", "overdue")]
    day = _first_open_day(session, on)
    while day <= on:
        close_day(loan, live, day, policy_on(DEFAULT_CLASSIFICATION, day), lambda step: step)
        day += timedelta(days=1)
    return rows, loan.suspense


def refresh(session: Session, loan: Loan) -> None:
    """Reload the loan after set-based writes went around the ORM."""
    session.flush()
    session.refresh(loan)


def installment_rows(session: Session, loan_id: int) -> list[InstallmentRow]:
    """Every installment of the loan, oldest first."""
    columns = [INSTALLMENTS.c[name] for name in INSTALLMENT_COLUMNS]
    return [InstallmentRow(*values) for values in
            session.execute(select(*columns).where(INSTALLMENTS.c.loan_id == loan_id)
                            .order_by(INSTALLMENTS.c.period))]


def save_rows(session: Session, rows: list[InstallmentRow]) -> None:
    """Write back the changed columns of ``rows``."""
    changed = [{name: getattr(row, name) for name in ("id", *MUTABLE_INSTALLMENT)} for row in rows if row.changed]
    bulk_update(session, INSTALLMENTS, changed)
    for row in rows:
        row.changed.clear()


def suspense_of(session: Session, loan_id: int) -> Decimal:
    """The overpayment suspense held for the loan (from the projection)."""
    held: Decimal | None = session.scalar(select(LoanBalance.suspense).where(LoanBalance.loan_id == loan_id))
    return held or ZERO


def snapshot(session: Session, loan: Loan) -> dict[str, Any]:
    """The loan's mutable state as JSON: its columns, its installments and its servicing state."""
    session.flush()
    state = session.get(LoanServicingState, loan.id)
    return {
        "loan": {"state": loan.state, "days_past_due": loan.days_past_due, "bucket": loan.bucket,
                 "five_tier": loan.five_tier, "closed_on": _iso(loan.closed_on),
                 "non_accrual_since": _iso(loan.non_accrual_since),
                 "maturity_date": loan.maturity_date.isoformat()},
        "installments": [_row_json(row) for row in installment_rows(session, loan.id)],
        "servicing": None if state is None else {"penalty_through": _iso(state.penalty_through)},
    }


def _row_json(row: InstallmentRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in INSTALLMENT_COLUMNS:
        value = getattr(row, name)
        out[name] = value if value is None or isinstance(value, (int, str)) else str(value)
    return out


_DATES = ("start", "due_date", "paid_on")


def restore(session: Session, loan: Loan, saved: Mapping[str, Any]) -> None:
    """Put the loan's installments and servicing state back as :func:`snapshot` saw them (not its state:
    the caller moves the state through the state machine).

    The installments go back under new ids: nothing refers to an installment's id, and the one it had may
    belong to another loan's installment by now (SQLite gives the largest ids of deleted rows again)."""
    session.execute(delete(INSTALLMENTS).where(INSTALLMENTS.c.loan_id == loan.id))
    rows = []
    for raw in saved["installments"]:
        row: dict[str, Any] = {"loan_id": loan.id}
        for name in (name for name in INSTALLMENT_COLUMNS if name != "id"):
            value = raw.get(name, "0") if name == "late_fee" else raw[name]  # snapshots from before late fees
            if value is not None and name in _DATES:
                value = date.fromisoformat(value)
            elif value is not None and name not in ("period", "status"):
                value = Decimal(value)
            row[name] = value
        rows.append(row)
    if rows:
        session.execute(insert(INSTALLMENTS), rows)
    values = saved["loan"]
    loan.days_past_due, loan.bucket, loan.five_tier = values["days_past_due"], values["bucket"], values["five_tier"]
    loan.closed_on = date.fromisoformat(values["closed_on"]) if values["closed_on"] else None
    since = values.get("non_accrual_since")  # absent from snapshots taken before non-accrual existed
    loan.non_accrual_since = date.fromisoformat(since) if since else None
    loan.maturity_date = date.fromisoformat(values["maturity_date"])
    through = (saved.get("servicing") or {}).get("penalty_through")
    upsert_servicing_states(session, [{"loan_id": loan.id,
                                       "penalty_through": date.fromisoformat(through) if through else None}])
    session.flush()
