"""What lapses with time: offers nobody accepted and returns nobody answered.

An approved application's offer carries a deadline (``ApprovedOffer.expires_at``, :data:`OFFER_VALID_DAYS`
after the decision, :mod:`core.origination.approved`); :func:`accept_offer
<core.origination.booking.accept_offer>` refuses after it, and :func:`expire_offers` moves such an application
to ``expired`` so the queue, the cockpit and the channel (the transition's webhook) see it ended. A returned
application that passed its deadline expires through :func:`core.origination.returns.expire_returns`.
:func:`expire_applications` runs both; Celery beat runs it every few minutes and ``loanfactory applications
expire`` on demand. Idempotent: a second run in the same instant finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.origination.approved import offer_of
from core.origination.returns import expire_returns
from core.states import APPLICATION_STATES

ACTOR = "system:expiry"


@dataclass(frozen=True)
class ExpiryResult:
    """The ids of the applications expired, by why."""

    offers: tuple[int, ...]
    returns: tuple[int, ...]


def expire_offers(session: Session, now: datetime) -> list[int]:
    """Expire the approved applications whose offer was not accepted before its deadline (a credit line's
    approval carries its deadline in the decision, ``offer_expires_at``).

    Raises:
        StoredOfferError: an approved application has no offer, or a damaged one.
    """
    expired = []
    approved = session.scalars(select(Application).where(Application.state == "approved")
                               .order_by(Application.id).with_for_update())
    for application in list(approved):
        decision = application.decision or {}
        deadline: datetime | None
        if application.offer is None and "approved_limit" in decision:  # a credit line's, granted on acceptance
            deadline = datetime.fromisoformat(decision["offer_expires_at"])
        else:
            offer = offer_of(application)
            deadline = offer.expires_at if offer.accepted_at is None else None
        if deadline is None or deadline >= now:
            continue
        APPLICATION_STATES.transition(session, application, "expired", actor=ACTOR,
                                      reason=f"offer not accepted by {deadline.isoformat()}", at=now)
        expired.append(application.id)
    return expired


def expire_applications(session: Session, now: datetime | None = None) -> ExpiryResult:
    """Expire lapsed offers and unanswered returns in the caller's transaction."""
    now = now or datetime.now(UTC)
    return ExpiryResult(offers=tuple(expire_offers(session, now)), returns=tuple(expire_returns(session, now)))
