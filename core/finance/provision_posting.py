"""Booking provisions: the change from the last provision, and the report that shows both methods.

:func:`book_provision` computes the allowance the policy's method requires on a date
(:mod:`core.finance.provisions`), reads the allowance the journal holds through that date (account 1304:
provisions credit it, write-offs consume it, recoveries post back to it) and posts the difference as one
entry: Dr 6702 credit impairment loss / Cr 1304 when more is needed, the reverse when less. Run at each
month end, after the day's end-of-day, and on demand for any date; a second run for a date posts only what
changed since (keys ``provision:<date>:<n>``), so it is safe to repeat. :func:`provision_report` shows the
two methods side by side with the allowance held and the coverage ratios, without posting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.finance.provisions import (
    DEFAULT_PROVISIONING,
    Estimate,
    ProvisionPolicy,
    ecl_estimate,
    five_tier_estimate,
    flow_pd,
    month_ends,
    provisioning_on,
)
from core.ledger.accounts import LOAN_LOSS_ALLOWANCE, WRITE_OFF_EXPENSE
from core.ledger.models import JournalEntry
from core.ledger.posting import Line, post
from core.portfolio.measures import Coverage, Portfolio, allowance, book_on

ZERO = Decimal(0)
EVENT = "provision"


@dataclass(frozen=True)
class ProvisionReport:
    """Both methods on ``day``, the policy's chosen one, the allowance held and the book it is measured on."""

    day: date
    policy: ProvisionPolicy
    five_tier: Estimate
    ecl: Estimate
    held: Decimal
    book: Portfolio

    @property
    def chosen(self) -> Estimate:
        return self.five_tier if self.policy.method == "five_tier" else self.ecl

    @property
    def coverage(self) -> Coverage:
        """拨备覆盖率 and 拨贷比 of the allowance held."""
        return Coverage(self.held, self.book.non_performing.principal, self.book.outstanding.principal)


def provision_report(session: Session, day: date,
                     policies: Sequence[ProvisionPolicy] = DEFAULT_PROVISIONING) -> ProvisionReport:
    """Both methods' allowance on ``day`` and the allowance held; nothing is posted."""
    policy = provisioning_on(policies, day)
    history = [book_on(session, end) for end in month_ends(day, policy.lookback_months)]
    book = history[-1]
    return ProvisionReport(day, policy, five_tier_estimate(book, policy), ecl_estimate(book, flow_pd(history), policy),
                           allowance(session, day), book)


@dataclass(frozen=True)
class BookedProvision:
    """What a run found and posted: the report, the change posted (0: none) and its entry's key."""

    report: ProvisionReport
    change: Decimal
    key: str | None


def book_provision(session: Session, day: date, policies: Sequence[ProvisionPolicy] = DEFAULT_PROVISIONING
                   ) -> BookedProvision:
    """Post the change from the allowance held to the one the policy's method requires on ``day``."""
    report = provision_report(session, day, policies)
    change = report.chosen.total - report.held
    if not change:
        return BookedProvision(report, ZERO, None)
    prefix = f"provision:{day.isoformat()}:"
    earlier = session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.idempotency_key.like(f"{prefix}%")))
    key = f"{prefix}{earlier or 0}"
    amount = abs(change)
    lines = ([Line.dr(WRITE_OFF_EXPENSE, amount), Line.cr(LOAN_LOSS_ALLOWANCE, amount)] if change > 0
             else [Line.dr(LOAN_LOSS_ALLOWANCE, amount), Line.cr(WRITE_OFF_EXPENSE, amount)])
    post(session, key=key, event=EVENT, business_date=day, lines=lines,
         memo=f"{report.policy.method}: required {report.chosen.total}, held {report.held}")
    return BookedProvision(report, change, key)
