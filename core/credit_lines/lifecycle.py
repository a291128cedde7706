"""A credit line's life: granted, frozen and unfrozen, adjusted, renewed, expired, closed; each one audited.

A line is applied for through the ordinary application pipeline (eligibility, bureau, scoring, the approval
chain: :mod:`core.origination.pipeline`), the requested limit being the application's amount; an approved
application carries the limit and the risk band's rate in its decision. :func:`grant_line` turns it into an
``active`` line when the borrower accepts (the application ends ``line_granted``), fixing the rate for the
line's life and its expiry (the product's validity), and raising the customer's total limit to the line's
when it was lower, within the lender's policy cap (:mod:`core.credit_lines.policy`).

States move only through :data:`LINE_STATES` (recorded in ``state_transitions``, which the webhooks read);
every change, limit adjustments included, also appends a :class:`~core.credit_lines.models.LineEvent` with
the actor, the reason and the limit before and after. Nothing here commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.backoffice.audit import record
from core.credit_lines.limits import ZERO, lock_line, used_by_line
from core.credit_lines.models import ChannelSubLimit, CreditLine, CustomerLimit, LineEvent
from core.credit_lines.policy import PER_BORROWER_BALANCE, cap_on
from core.errors import InvalidArgumentError, WrongStateError
from core.money import parse_money
from core.origination.catalog import Offer
from core.origination.errors import NotFoundError
from core.origination.limits import lock_customer
from core.products.credit_line import LineTerms, is_credit_line
from core.states import APPLICATION_STATES, StateMachine

LINE_STATES = StateMachine("credit_line", "active", {
    "active": frozenset({"frozen", "expired", "closed"}),
    "frozen": frozenset({"active", "expired", "closed"}),
    "expired": frozenset({"closed"}),
    "closed": frozenset(),
})


def _now() -> datetime:
    return datetime.now(UTC)


def _event(session: Session, line: CreditLine, event: str, *, actor: str, reason: str | None,
           from_state: str | None, limit_before: Decimal | None, at: datetime) -> LineEvent:
    record = LineEvent(line_id=line.id, event=event, from_state=from_state, to_state=line.state,
                       limit_before=limit_before, limit_after=line.limit, actor=actor,
                       reason=(reason or None) and str(reason)[:500], at=at)
    session.add(record)
    return record


def _move(session: Session, line: CreditLine, to_state: str, event: str, *, actor: str, reason: str | None,
          at: datetime) -> CreditLine:
    before = line.state
    LINE_STATES.transition(session, line, to_state, actor=actor, reason=reason)
    _event(session, line, event, actor=actor, reason=reason, from_state=before, limit_before=line.limit, at=at)
    return line


def grant_line(session: Session, application: Application, offer: Offer, *, actor: str, today: date,
               now: datetime | None = None) -> CreditLine:
    """Grant the line an approved application asked for (approved -> line_granted) on business date ``today``
    (its validity runs from then); granting again returns the line already granted.

    Raises:
        WrongStateError: the application is not an approved credit-line application, or its offer expired.
    """
    now = now or _now()
    existing = session.scalar(select(CreditLine).where(CreditLine.application_id == application.id))
    if existing is not None:
        return existing
    if not is_credit_line(offer.document) or application.product_version_id != offer.version_id:
        raise WrongStateError(f"application: {application.id} is not an application for a credit line",
                              field="application_id", value=application.id)
    decision = application.decision or {}
    if application.state != "approved" or "approved_limit" not in decision:
        raise WrongStateError(f"state: cannot grant the line of an application that is {application.state}",
                              field="state", value=application.state)
    if datetime.fromisoformat(decision["offer_expires_at"]) < now:
        raise WrongStateError("state: the line offer expired at " + decision["offer_expires_at"], field="state",
                              value="expired")
    terms = LineTerms.of(offer.product)
    lock_customer(session, application.customer_id)
    limit = Decimal(decision["approved_limit"])
    line = CreditLine(customer_id=application.customer_id, application_id=application.id,
                      channel=application.channel, product_code=application.product_code,
                      product_version_id=application.product_version_id, limit=limit,
                      annual_rate=Decimal(decision["annual_rate"]), revolving=terms.revolving, state="active",
                      granted_on=today, expires_on=terms.expires_on(today))
    LINE_STATES.start(session, line, actor=actor, reason=f"application {application.id}")
    _event(session, line, "granted", actor=actor, reason=f"application {application.id}", from_state=None,
           limit_before=None, at=now)
    total = session.get(CustomerLimit, application.customer_id, with_for_update=True)
    cap = cap_on(PER_BORROWER_BALANCE, today)
    wanted = limit if cap is None else min(limit, cap.amount)
    if total is None:
        session.add(CustomerLimit(customer_id=application.customer_id, total_limit=wanted))
    elif total.total_limit < wanted:
        total.total_limit = wanted
    APPLICATION_STATES.transition(session, application, "line_granted", actor=actor, reason=f"line {line.id}")
    session.flush()
    return line


def line_for_update(session: Session, line_id: int) -> CreditLine:
    """The line, locked with its customer's total limit (:func:`core.credit_lines.limits.lock_line`).

    Raises:
        NotFoundError: no such line.
    """
    line = lock_line(session, line_id)
    if line is None:
        raise NotFoundError(f"credit line {line_id} not found", field="line_id", value=line_id)
    return line


def freeze(session: Session, line: CreditLine, *, actor: str, reason: str, now: datetime | None = None) -> CreditLine:
    """Stop drawdowns on the line (active -> frozen); loans drawn run on. A frozen line stays frozen."""
    if line.state == "frozen":
        return line
    return _move(session, line, "frozen", "frozen", actor=actor, reason=_reason(reason), at=now or _now())


def unfreeze(session: Session, line: CreditLine, *, actor: str, reason: str,
             now: datetime | None = None) -> CreditLine:
    """Allow drawdowns again (frozen -> active)."""
    return _move(session, line, "active", "unfrozen", actor=actor, reason=_reason(reason), at=now or _now())


def adjust(session: Session, line: CreditLine, offer: Offer, new_limit: object, *, actor: str, reason: str,
           now: datetime | None = None) -> CreditLine:
    """Set the line's limit: up (after a review) to at most the product's largest limit, down (by an early
    warning or an operator) to as little as zero; a limit below what is drawn leaves nothing to draw until
    repayments bring the use under it.

    Raises:
        InvalidArgumentError: not an amount, or above the product's largest limit (field ``limit``).
        WrongStateError: the line is expired or closed.
    """
    limit = parse_money(new_limit, "limit")
    largest = LineTerms.of(offer.product).limit.max
    if limit > largest:
        raise InvalidArgumentError(f"limit: at most the product's largest limit {largest:.2f}", field="limit",
                                   value=limit)
    if line.state not in ("active", "frozen"):
        raise WrongStateError(f"state: cannot adjust a line that is {line.state}", field="state", value=line.state)
    before = line.limit
    line.limit = limit
    _event(session, line, "adjusted", actor=actor, reason=_reason(reason), from_state=line.state,
           limit_before=before, at=now or _now())
    return line


def renew(session: Session, line: CreditLine, offer: Offer, *, actor: str, reason: str,
          now: datetime | None = None) -> CreditLine:
    """Extend an unexpired line by another validity period (products whose renewal mode is ``review``).

    Raises:
        WrongStateError: the product does not renew, or the line is expired or closed.
    """
    terms = LineTerms.of(offer.product)
    if terms.renewal != "review":
        raise WrongStateError("state: this product's lines are not renewed", field="state", value=line.state)
    if line.state not in ("active", "frozen"):
        raise WrongStateError(f"state: cannot renew a line that is {line.state}", field="state", value=line.state)
    line.expires_on = terms.expires_on(line.expires_on)
    _event(session, line, "renewed", actor=actor, reason=_reason(reason) + f" (until {line.expires_on})",
           from_state=line.state, limit_before=line.limit, at=now or _now())
    return line


def close(session: Session, line: CreditLine, *, actor: str, reason: str, now: datetime | None = None) -> CreditLine:
    """Close the line for good; refused while any of it is in use.

    Raises:
        WrongStateError: something is still drawn (field ``state``).
    """
    in_use = used_by_line(session, [line.id])[line.id]
    if in_use > ZERO:
        raise WrongStateError(f"state: {in_use:.2f} of the line is still drawn; close it once repaid", field="state",
                              value=line.state)
    return _move(session, line, "closed", "closed", actor=actor, reason=_reason(reason), at=now or _now())


def expire_lines(session: Session, today: date, *, actor: str, now: datetime | None = None) -> list[CreditLine]:
    """Expire every active or frozen line whose last day is before ``today``; returns them."""
    lines = list(session.scalars(select(CreditLine).where(CreditLine.state.in_(("active", "frozen")),
                                                          CreditLine.expires_on < today)
                                 .order_by(CreditLine.id).with_for_update()))
    for line in lines:
        _move(session, line, "expired", "expired", actor=actor, reason=f"validity ended {line.expires_on}",
              at=now or _now())
    return lines


def set_customer_total(session: Session, customer_id: int, total: object, *, actor: str, reason: str,
                       on: date) -> CustomerLimit:
    """Set a customer's total limit, within the lender's policy cap in force ``on``.

    Raises:
        InvalidArgumentError: not an amount, or above the cap (field ``total_limit``).
        NotFoundError: the customer has no line.
    """
    amount = parse_money(total, "total_limit")
    cap = cap_on(PER_BORROWER_BALANCE, on)
    if cap is not None and amount > cap.amount:
        raise InvalidArgumentError(f"total_limit: at most the policy cap {cap.amount:.2f} ({cap.source})",
                                   field="total_limit", value=amount)
    lock_customer(session, customer_id)
    row = session.get(CustomerLimit, customer_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"customer {customer_id} has no credit line", field="customer_id", value=customer_id)
    before = row.total_limit
    row.total_limit = amount
    record(session, actor=actor, action="customer_limit.set", entity_type="customer", entity_id=customer_id,
           before={"total_limit": before}, after={"total_limit": amount}, comment=_reason(reason))
    return row


def set_channel_sub_limit(session: Session, line: CreditLine, channel: str, limit: object | None, *, actor: str,
                          reason: str, now: datetime | None = None) -> ChannelSubLimit | None:
    """Cap what ``channel`` may have drawn on ``line`` (``None`` removes the cap)."""
    row = session.get(ChannelSubLimit, (line.id, channel))
    amount = None if limit is None else parse_money(limit, "limit")
    if amount is None:
        if row is not None:
            session.delete(row)
        row = None
    elif row is None:
        row = ChannelSubLimit(line_id=line.id, channel=channel, limit=amount)
        session.add(row)
    else:
        row.limit = amount
    _event(session, line, "channel_limit", actor=actor,
           reason=f"{channel}: {'none' if amount is None else f'{amount:.2f}'}; {_reason(reason)}",
           from_state=line.state, limit_before=line.limit, at=now or _now())
    return row


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidArgumentError("reason: every change to a line says why", field="reason")
    return text[:400]
