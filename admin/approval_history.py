"""What the inbox shows around a task: the application's review history and the returns awaiting channels.

:func:`history` merges, in time order, every entry of every task of an application (approvals, rejections,
send-backs, returns) with the channel's resubmissions (its comment, documents and corrected finances) and
expiries, so the reviewer of a resubmitted application reads the whole conversation. :func:`waiting_returns`
lists the applications returned and not yet answered, soonest deadline first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.origination.approval import ApprovalTask
from core.origination.returns import ApplicationReturn, aware, returns_of


def seconds_until(moment: datetime) -> int:
    """Seconds from now to ``moment`` (negative once past), for the countdowns."""
    return int((aware(moment) - datetime.now(UTC)).total_seconds())


def history(session: Session, application_id: int) -> list[dict[str, Any]]:
    """Every review event of the application, oldest first: ``at``, ``actor``, ``kind``, ``note`` and, for a
    resubmission, ``documents`` and ``applicant``."""
    events: list[dict[str, Any]] = []
    tasks = session.scalars(select(ApprovalTask).where(ApprovalTask.application_id == application_id)
                            .order_by(ApprovalTask.id))
    for task in tasks:
        for entry in task.approvals:
            kind = entry.get("action") or ("approve" if entry["approve"] else "reject")
            events.append({"at": aware(datetime.fromisoformat(entry["at"])), "actor": entry["actor"], "kind": kind,
                           "note": entry.get("note"), "to": entry.get("to"), "task_id": task.id})
    for record in returns_of(session, application_id):
        if record.resubmitted_at is not None:
            supplement = record.supplement or {}
            events.append({"at": aware(record.resubmitted_at), "actor": record.resubmitted_by, "kind": "resubmit",
                           "note": supplement.get("comment"), "documents": supplement.get("documents", []),
                           "applicant": supplement.get("applicant", {}), "task_id": record.reopened_task_id})
        elif record.state == "expired":
            events.append({"at": aware(record.resubmit_by), "actor": "system", "kind": "expired",
                           "note": None, "task_id": record.task_id})
    return sorted(events, key=lambda event: event["at"])


def waiting_returns(session: Session) -> list[dict[str, Any]]:
    """Returned applications waiting for their channel, soonest deadline first."""
    rows = session.execute(select(ApplicationReturn, Application).join(
        Application, Application.id == ApplicationReturn.application_id).where(
        ApplicationReturn.state == "waiting").order_by(ApplicationReturn.resubmit_by))
    return [{"record": record, "application": application, "seconds_left": seconds_until(record.resubmit_by)}
            for record, application in rows]
