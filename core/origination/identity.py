"""Identity verification (实名认证) in the pipeline: the checks a product requires, each answer kept as evidence.

A product lists its checks in ``identity_checks.required`` (``three_element``, ``bank_card``, ``liveness``)
and names the provider in ``plugins.identity``. :func:`verify_identity` asks the provider each check in that
order for the applicant (for liveness, with the digests of the customer's latest ``id_card_front`` and
``face_photo`` documents) and returns the evidence, one entry per check (check, outcome, provider, reference,
reason, score), and what follows: a ``mismatch`` refuses the application (``IDENTITY_<CHECK>_MISMATCH``) or,
when the product says ``on_mismatch: review``, sends it to a person; ``unverifiable`` always goes to a person;
a provider fault or timeout goes to a person naming the check (never read as a mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.documents.files import Document
from core.errors import LoanFactoryError
from core.origination.catalog import Offer
from core.origination.requests import Applicant
from core.origination.required_documents import hold_for_person
from core.plugins.manager import PluginManager
from core.plugins.types import IdentityQuery, IdentityResult, PluginFailure, PluginNotFoundError

HOOKS = {"three_element": "identity_three_element", "bank_card": "identity_bank_card",
         "liveness": "identity_liveness"}


@dataclass
class IdentityOutcome:
    """The evidence of every check asked, the refusal reasons, the reasons for a person to look, and the
    provider failure (check and error) that stopped the checks, if any."""

    evidence: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    failure: tuple[str, LoanFactoryError] | None = None


def required_checks(offer: Offer) -> tuple[list[str], str]:
    """The checks ``offer`` requires, in order, and what a mismatch does (``reject`` or ``review``)."""
    config = offer.product.document.get("identity_checks") or {}
    return list(config.get("required") or []), str(config.get("on_mismatch", "reject"))


def _latest_digest(session: Session, customer_id: int, kind: str) -> str | None:
    return session.scalar(select(Document.sha256).where(Document.customer_id == customer_id, Document.kind == kind)
                          .order_by(Document.id.desc()).limit(1))


def _evidence(result: IdentityResult) -> dict[str, Any]:
    return {"check": result.check, "outcome": result.outcome, "provider": result.provider,
            "reference": result.reference, "reason": result.reason,
            "score": None if result.score is None else str(result.score)}


def verify_identity(session: Session, plugins: PluginManager, offer: Offer, applicant: Applicant,
                    customer_id: int, subject: str) -> IdentityOutcome:
    """Run the checks ``offer`` requires for ``applicant`` (customer ``customer_id``) through its identity
    plugin; see the module docstring for what each outcome means."""
    checks, on_mismatch = required_checks(offer)
    outcome = IdentityOutcome()
    if not checks:
        return outcome
    account = applicant.bank_account
    base = IdentityQuery(name=applicant.name, id_number=applicant.id_number, phone=applicant.phone,
                         bank_code=account.get("bank_code"), card_number=account.get("account_number"))
    for check in checks:
        query = base
        if check == "liveness":
            query = IdentityQuery(**{**{f: getattr(base, f) for f in ("name", "id_number", "phone")},
                                     "id_photo_sha256": _latest_digest(session, customer_id, "id_card_front"),
                                     "face_sha256": _latest_digest(session, customer_id, "face_photo")})
        try:
            result: IdentityResult = plugins.call(str(offer.plugins.get("identity", "")), HOOKS[check],
                                                  session=session, subject=subject, query=query)
        except (PluginFailure, PluginNotFoundError) as error:
            outcome.evidence.append({"check": check, "outcome": "failed", "reason": str(error)})
            outcome.failure = (check, error)
            return outcome
        outcome.evidence.append(_evidence(result))
        if result.outcome == "mismatch":
            target = outcome.refusals if on_mismatch == "reject" else outcome.review
            target.append(f"IDENTITY_{check.upper()}_MISMATCH")
        elif result.outcome == "unverifiable":
            outcome.review.append(f"IDENTITY_{check.upper()}_UNVERIFIABLE")
    return outcome


def awaiting_identity_review(session: Session, application: Application, decision: dict[str, Any],
                             reasons: list[str], now: datetime) -> Application:
    """Queue the application for a person: the machines would approve it, but identity is not verified."""
    return hold_for_person(session, application, decision,
                           name={"zh": "实名认证人工复核", "en": "Identity check review"}, key="identity_review",
                           items=reasons, reason="identity", now=now)
