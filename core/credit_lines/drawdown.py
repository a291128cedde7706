"""Drawing on a line: quote a drawdown, and request one that becomes a loan like any other.

A drawdown request names an ``amount`` (within the product's ``amount`` range, which is one drawdown's), a
``method`` (one of the product's repayment methods, or ``daily_interest`` when the line offers 随借随还) and a
``term`` (in the product's unit; in days for ``daily_interest`` under the ``chosen_days`` rule, and absent
under ``fixed_day``, where the line's repayment day sets it). :func:`quote_drawdown` prices it at the line's
rate from ``today``.

:func:`request_drawdown` does, in the caller's transaction: lock the customer's total limit and the line
(:func:`core.credit_lines.limits.lock_line`), refuse a line that is not active or has passed its last day,
check the amount against every level of limits (:func:`core.credit_lines.limits.occupy`), then record an
application for the drawdown pinned to the line's product version, approved at the line's rate and accepted
under the line agreement (its payout account and consents are the line application's), the
:class:`~core.credit_lines.models.Drawdown` tying it to the line, and a ``drawn`` line event; and finally it
sends the payout order through the ordinary disbursement (:func:`core.origination.booking.start_disbursement`),
so the loan is booked by the payment channel's callback and lives through end-of-day, debits and
collections like every loan. Idempotency is the caller's (the channel API's ``Idempotency-Key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.applications.models import Application
from core.credit_lines.lifecycle import line_for_update
from core.credit_lines.limits import Level, occupy
from core.credit_lines.models import ChannelSubLimit, CreditLine, Drawdown, LineEvent
from core.errors import InvalidArgumentError, WrongStateError
from core.origination.approved import ApprovedOffer, record_offer, servicing_rules
from core.origination.booking import DisbursementOrder, PayoutAccount, start_disbursement
from core.origination.catalog import Offer
from core.origination.errors import NotFoundError, RequestProblems
from core.origination.quotes import Quote, quote
from core.origination.settlement import CALLBACK_TOLERANCE_DAYS
from core.plugins.manager import PluginManager
from core.products.credit_line import DAILY_INTEREST, LineTerms, daily_product, daily_term
from core.schedule import Method
from core.states import APPLICATION_STATES

FIELDS = frozenset({"amount", "term", "method"})
SYSTEM = "system:credit_lines"


@dataclass(frozen=True)
class PricedDrawdown:
    """A drawdown request checked and priced: the offer its loan is of, the quote, and the term booked."""

    offer: Offer
    quote: Quote
    term: int
    method: str

    @property
    def amount(self) -> Decimal:
        return self.quote.schedule.terms.principal


@dataclass(frozen=True)
class DrawdownResult:
    """What a drawdown request did: the drawdown, its payout order and the limits before it."""

    drawdown: Drawdown
    application: Application
    order: DisbursementOrder
    levels: list[Level]


def drawdown_offer(offer: Offer, method: object) -> Offer:
    """The offer a drawdown's loan is of: the line's product, or its daily-interest form for ``daily_interest``."""
    if method == DAILY_INTEREST:
        return Offer(version_id=offer.version_id, product=daily_product(offer.product))
    return offer


def price_drawdown(offer: Offer, line: CreditLine, data: Mapping[str, Any], today: date) -> PricedDrawdown:
    """Check a drawdown request against the line's product and price it at the line's rate from ``today``.

    Raises:
        RequestProblems: every problem, each naming its field.
    """
    if not isinstance(data, Mapping):
        raise RequestProblems([("body", "must be a JSON object")])
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise RequestProblems([(name, "is not a field of a drawdown") for name in unknown])
    method = data.get("method")
    term = data.get("term")
    terms = LineTerms.of(offer.product)
    if method == DAILY_INTEREST:
        if terms.daily_max_days is None:
            raise RequestProblems([("method", "this line offers no daily-interest drawdown")])
        try:
            term = daily_term(terms, today, term if terms.daily_rule == "chosen_days" else None)
        except InvalidArgumentError as error:
            raise RequestProblems([(error.field or "term", error.message.split(": ", 1)[-1])]) from None
    elif method not in {m.value for m in offer.product.methods}:
        choices = [m.value for m in offer.product.methods] + ([DAILY_INTEREST] if terms.daily_max_days else [])
        raise RequestProblems([("method", f"must be one of {', '.join(choices)}")])
    target = drawdown_offer(offer, method)
    priced = quote(target, data.get("amount"), term, Method.BULLET.value if method == DAILY_INTEREST else method,
                   today, line.annual_rate)
    return PricedDrawdown(target, priced, int(term), priced.schedule.terms.method.value)  # type: ignore[arg-type]


def quote_drawdown(offer: Offer, line: CreditLine, data: Mapping[str, Any], today: date) -> Quote:
    """The quote of a drawdown request (nothing is written; the limits are not checked)."""
    return price_drawdown(offer, line, data, today).quote


def may_draw(session: Session, line: CreditLine, channel: str) -> bool:
    """Whether ``channel`` may draw on ``line``: the channel that granted it, or one given a sub-limit on it."""
    return line.channel == channel or session.get(ChannelSubLimit, (line.id, channel)) is not None


def _check_open(line: CreditLine, today: date) -> None:
    if line.state == "frozen":
        raise WrongStateError(f"state: credit line {line.id} is frozen; no drawdown until it is unfrozen",
                              field="state", value=line.state)
    if line.state != "active" or today > line.expires_on:
        what = line.state if line.state != "active" else f"past its last day {line.expires_on}"
        raise WrongStateError(f"state: credit line {line.id} is {what}; no drawdown", field="state",
                              value="expired" if line.state == "active" else line.state)


def request_drawdown(session: Session, plugins: PluginManager, offer: Offer, line_id: int, data: Mapping[str, Any],
                     *, channel: str, actor: str, today: date, now: datetime | None = None,
                     tolerance_days: int = CALLBACK_TOLERANCE_DAYS) -> DrawdownResult:
    """Draw on line ``line_id`` (module docstring); ``tolerance_days`` as for
    :func:`~core.origination.booking.start_disbursement`.

    Raises:
        NotFoundError: no such line, or ``channel`` may not draw on it.
        WrongStateError: the line is frozen, expired or closed.
        RequestProblems: the request does not fit the product.
        LimitExceededError: a level of limits has not enough available.
        CreditLimitError, PluginFailure: as :func:`~core.origination.booking.start_disbursement`.
    """
    now = now or datetime.now(UTC)
    line = line_for_update(session, line_id)
    if not may_draw(session, line, channel):
        raise NotFoundError(f"credit line {line_id} not found", field="line_id", value=line_id)
    _check_open(line, today)
    priced = price_drawdown(offer, line, data, today)
    found = occupy(session, line, priced.amount, channel=channel, on=today)
    application = _drawdown_application(session, line, priced, channel=channel, actor=actor, now=now)
    drawdown = Drawdown(line_id=line.id, application_id=application.id, channel=channel, amount=priced.amount,
                        created_at=now)
    session.add(drawdown)
    session.add(LineEvent(line_id=line.id, event="drawn", from_state=line.state, to_state=line.state,
                          limit_before=line.limit, limit_after=line.limit, actor=actor,
                          reason=f"{priced.amount:.2f} by {priced.method} over {priced.term}, application "
                                 f"{application.id}", at=now))
    session.flush()
    order = start_disbursement(session, plugins, application, priced.offer, actor=actor, today=today,
                               tolerance_days=tolerance_days)
    return DrawdownResult(drawdown, application, order, found)


def _drawdown_application(session: Session, line: CreditLine, priced: PricedDrawdown, *, channel: str, actor: str,
                          now: datetime) -> Application:
    parent = session.get(Application, line.application_id)
    payout = session.get(PayoutAccount, line.application_id)
    assert parent is not None and payout is not None
    application = Application(customer_id=line.customer_id, channel=channel, product_code=line.product_code,
                              product_version_id=line.product_version_id, amount=priced.amount, term=priced.term,
                              method=priced.method, consents=parent.consents, score=parent.score,
                              grade=parent.grade, reason_codes=[], decided_at=now, review_step=None,
                              decision={"outcome": "approved", "reasons": [], "line_id": line.id})
    offered = ApprovedOffer.priced(priced.quote, priced.term, servicing_rules(priced.offer, priced.method),
                                   now + timedelta(minutes=1))
    record_offer(application, offered.accept(at=now, by=actor))
    APPLICATION_STATES.start(session, application, actor=actor, reason=f"drawdown on credit line {line.id}",
                             then=(("submitted", actor), ("under_review", SYSTEM), ("approved", SYSTEM),
                                   ("accepted", actor), ("contract_signed", actor)))
    session.add(PayoutAccount(application_id=application.id, bank_code=payout.bank_code,
                              account_number=payout.account_number, holder_name=payout.holder_name))
    return application
