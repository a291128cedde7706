"""Documents a product requires before approval (``documents.before_approval``).

:func:`missing_documents` names the kinds the application's customer (its enterprise, for an enterprise product)
has not handed in for it; :func:`awaiting_documents` queues an application the machines would approve for a
person instead. The pipeline asks both; approving a task asks :func:`missing_documents` again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.applications.models import Application
from core.customers.parties import ENTERPRISE, INDIVIDUAL, PartyRef
from core.documents.files import missing_kinds
from core.origination.approval import DEFAULT_REVIEW_ROLE, FAILURE_REVIEW, open_task
from core.origination.catalog import Offer


def missing_documents(session: Session, offer: Offer, application: Application) -> list[str]:
    """The kinds of document ``offer`` requires before approval (``documents.before_approval``) that the
    application's customer (its enterprise, for an enterprise product) has not handed in for it."""
    kinds = (offer.product.document.get("documents") or {}).get("before_approval") or []
    if not kinds:
        return []
    subject = (PartyRef(ENTERPRISE, application.enterprise_id) if application.enterprise_id is not None
               else PartyRef(INDIVIDUAL, application.customer_id))
    return missing_kinds(session, subject, kinds, application.id)


def hold_for_person(session: Session, application: Application, decision: dict[str, Any], *,
                    name: dict[str, str], key: str, items: list[str], reason: str, now: datetime) -> Application:
    """Queue an application the machines would approve for a person instead: a review task named ``name``,
    the decision saying why under ``key`` (``items``)."""
    step = {"name": name, "role": DEFAULT_REVIEW_ROLE}
    task = open_task(session, application.id, FAILURE_REVIEW, step, four_eyes=False, now=now,
                     reason=f"{reason}: {', '.join(items)}")
    application.review_step = "manual_review"
    application.decision = {**decision, "outcome": "manual_review", key: items, "task_id": task.id,
                            "step": FAILURE_REVIEW}
    return application


def awaiting_documents(session: Session, application: Application, decision: dict[str, Any], missing: list[str],
                       now: datetime) -> Application:
    """Queue the application for a person: the machines would approve it, but documents are missing."""
    return hold_for_person(session, application, decision, name={"zh": "资料待补齐", "en": "Documents missing"},
                           key="missing_documents", items=missing, reason="documents missing", now=now)
