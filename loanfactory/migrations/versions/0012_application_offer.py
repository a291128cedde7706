"""each approved application's offer in a column of its own

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:00:00

``applications.offer`` holds the approved offer as :class:`core.origination.approved.ApprovedOffer` stores it:
the contract offered (the schedule's terms and the servicing rules), the term, APR, first installment, total
payable, the deadline and the acceptance. Before it, these were loose keys of ``applications.decision``
(``annual_rate``, ``apr``, ``offer_expires_at``, ``accepted_at``...). Each application that has them gets its
offer built from them and its product version, as the pipeline would have built it: the schedule's terms are
the version's for the application's amount, term and method at the recorded rate from the approval date (the
deadline less the days an offer is good for), the servicing rules the version's. The keys then leave the
decision. An application whose decision holds some of the keys but not all stops the upgrade, naming it.
Downgrading puts the keys back from the offer.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.loans.contract import Contract
from core.origination.approved import ApprovedOffer, servicing_rules
from core.origination.catalog import Offer
from core.origination.pipeline import OFFER_VALID_DAYS

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the decision's keys the offer replaces; the last two only once the offer was accepted
OFFER_KEYS = ("approved_amount", "annual_rate", "apr", "term", "method", "first_installment", "total_payable",
              "offer_expires_at", "accepted_at", "accepted_by")

applications = sa.table("applications", sa.column("id", sa.Integer), sa.column("product_version_id", sa.Integer),
                        sa.column("amount", sa.String), sa.column("term", sa.Integer), sa.column("method", sa.String),
                        sa.column("decision", sa.JSON), sa.column("offer", sa.JSON))
versions = sa.table("product_versions", sa.column("id", sa.Integer),
                    sa.column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))


def offer_of_decision(application_id: int, amount: Decimal, term: int, method: str, decision: dict[str, Any],
                      version_id: int, document: dict[str, Any]) -> ApprovedOffer:
    """The offer the pipeline made, rebuilt from the keys it left in ``decision``."""
    missing = [key for key in OFFER_KEYS[:8] if key not in decision]
    if missing:
        raise RuntimeError(f"application {application_id}: its decision lacks {', '.join(missing)}")
    offer = Offer.of(version_id, document)
    expires = datetime.fromisoformat(decision["offer_expires_at"])
    approved_on = (expires - timedelta(days=OFFER_VALID_DAYS)).date()
    terms = offer.product.loan_terms(amount, term, method, approved_on, Decimal(decision["annual_rate"]))
    accepted = decision.get("accepted_at")
    return ApprovedOffer(Contract(terms, servicing_rules(offer, method)), term, offer.product.term_unit,
                         Decimal(decision["apr"]), Decimal(decision["first_installment"]),
                         Decimal(decision["total_payable"]), expires,
                         datetime.fromisoformat(accepted) if accepted else None, decision.get("accepted_by"))


def upgrade() -> None:
    op.add_column("applications", sa.Column("offer", sa.JSON(), nullable=True))
    bind = op.get_bind()
    found = bind.execute(sa.select(applications.c.id, applications.c.amount, applications.c.term,
                                   applications.c.method, applications.c.decision, versions.c.id, versions.c.document)
                         .join(versions, versions.c.id == applications.c.product_version_id)
                         .where(applications.c.decision.is_not(None)))
    for application_id, amount, term, method, decision, version_id, document in found.all():
        if not decision or not any(key in decision for key in OFFER_KEYS):
            continue
        offer = offer_of_decision(application_id, Decimal(str(amount)), term, method, decision, version_id, document)
        kept = {key: value for key, value in decision.items() if key not in OFFER_KEYS}
        bind.execute(sa.update(applications).where(applications.c.id == application_id)
                     .values(offer=offer.to_json(), decision=kept))


def downgrade() -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(applications.c.id, applications.c.decision, applications.c.offer)
                         .where(applications.c.offer.is_not(None)))
    for application_id, decision, offer in found.all():
        restored = {**(decision or {}), **ApprovedOffer.from_json(offer).decision_fields()}
        bind.execute(sa.update(applications).where(applications.c.id == application_id).values(decision=restored))
    op.drop_column("applications", "offer")
