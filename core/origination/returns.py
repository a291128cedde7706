"""Return for supplement (退回补件): a reviewer sends an application back to its channel for missing data.

Fineract and Mambu users know this as "set incomplete": :func:`return_for_supplement` closes the reviewer's
task as ``returned``, moves the application ``under_review -> returned`` with the comment as the
transition's reason (so the channel's ``application.returned`` webhook carries it) and records an
:class:`ApplicationReturn` with the deadline to answer (``resubmit_days``, the app setting
``RETURN_RESUBMIT_DAYS``). The channel reads the comment in the application's ``decision.returns`` and
answers with a :class:`Supplement` (its comment, references to documents, the applicant's finances);
:func:`resubmit` puts the application back to ``under_review`` on a new task for the same step (same role,
four eyes, SLA length), where the reviewer finds the whole history. :func:`expire_returns` expires what
was not resubmitted in time; whoever schedules work calls it. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.applications.models import Application
from core.businessday.clock import local_date
from core.customers.parties import Customer
from core.db.base import Base
from core.errors import InvalidArgumentError, WrongStateError
from core.money import MoneyInputError, parse_money
from core.origination.approval import MAX_COMMENT, ApprovalTask, check_turn, require_comment
from core.origination.catalog import Offer
from core.origination.errors import RequestProblems
from core.origination.requests import HOUSING, OCCUPATIONS
from core.states import APPLICATION_STATES

#: days a channel has to resubmit a returned application, unless ``RETURN_RESUBMIT_DAYS`` says otherwise
DEFAULT_RESUBMIT_DAYS = 7


def _now() -> datetime:
    return datetime.now(UTC)


class ApplicationReturn(Base):
    """An application returned for supplement: who returned it, when, why, and by when the channel answers.

    ``state`` is ``waiting`` until the channel resubmits (``resubmitted``, with the supplement and the
    task it reopened), the deadline passes (``expired``) or the application ends otherwise (``closed``).
    """

    __tablename__ = "application_returns"
    __table_args__ = (Index("ix_application_returns_state_due", "state", "resubmit_by"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("approval_tasks.id"))
    returned_by: Mapped[str] = mapped_column(String(120))
    returned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text)
    resubmit_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    resubmitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resubmitted_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    supplement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reopened_task_id: Mapped[int | None] = mapped_column(ForeignKey("approval_tasks.id"), nullable=True)


def aware(moment: datetime) -> datetime:
    """``moment`` with its time zone: SQLite hands datetimes back naive, and they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def returns_of(session: Session, application_id: int) -> list[ApplicationReturn]:
    """Every return of an application, oldest first: the comment history."""
    return list(session.scalars(select(ApplicationReturn).where(ApplicationReturn.application_id == application_id)
                                .order_by(ApplicationReturn.id)))


def _channel_view(record: ApplicationReturn) -> dict[str, Any]:
    """What the channel sees of a return (the reviewer's name stays inside)."""
    return {"comment": record.comment, "returned_at": aware(record.returned_at).isoformat(),
            "resubmit_by": aware(record.resubmit_by).isoformat(), "state": record.state,
            "resubmitted_at": aware(record.resubmitted_at).isoformat() if record.resubmitted_at else None}


def _publish_returns(session: Session, application: Application) -> None:
    application.decision = {**(application.decision or {}),
                            "returns": [_channel_view(r) for r in returns_of(session, application.id)]}


def return_for_supplement(session: Session, task: ApprovalTask, *, actor: str, comment: str | None,
                          resubmit_days: int = DEFAULT_RESUBMIT_DAYS,
                          now: datetime | None = None) -> ApplicationReturn:
    """A reviewer returns the task's application to the channel for the data ``comment`` asks for.

    The task closes as ``returned``; the application goes ``under_review -> returned`` (the comment is the
    transition's reason, so the ``application.returned`` webhook carries it) and its decision lists the
    returns the channel may read, with the deadline ``now + resubmit_days``.

    Raises:
        InvalidArgumentError: no comment, or ``resubmit_days`` below 1.
        WrongStateError: the task is decided, waits for another reviewer, or its application is no longer
            under review.
    """
    now = now or _now()
    text = require_comment(comment, "a return for supplement")
    if resubmit_days < 1:
        raise InvalidArgumentError("resubmit_days: at least one day", field="resubmit_days", value=resubmit_days)
    check_turn(task, actor)
    application = session.get(Application, task.application_id, with_for_update=True)
    if application is None or application.state != "under_review":
        raise WrongStateError(f"task: application of task {task.id} is not under review", field="task",
                              value=task.id)
    task.approvals = [*task.approvals, {"actor": actor, "approve": False, "action": "return", "note": text,
                                        "at": now.isoformat()}]
    task.state = "returned"
    task.decided_at = now
    record = ApplicationReturn(application_id=application.id, task_id=task.id, returned_by=actor, returned_at=now,
                               comment=text, resubmit_by=now + timedelta(days=resubmit_days), state="waiting")
    session.add(record)
    session.flush()
    APPLICATION_STATES.transition(session, application, "returned", actor=actor, reason=text, at=now)
    application.review_step = None
    application.decision = {**(application.decision or {}), "outcome": "returned"}
    _publish_returns(session, application)
    return record


#: what a resubmission may carry: the channel's answer, references to documents, the applicant's finances
SUPPLEMENT_FIELDS = ("comment", "documents", "applicant")
DOCUMENT_FIELDS = ("type", "reference", "description")
DOCUMENT_LIMITS = {"type": 40, "reference": 200, "description": 500}
MAX_DOCUMENTS = 20
SUPPLEMENT_CHOICES = {"housing": HOUSING, "occupation": OCCUPATIONS}
SUPPLEMENT_NUMBERS = {"employment_years": (0, 60), "dependants": (0, 20)}


@dataclass(frozen=True)
class Supplement:
    """A checked resubmission; ``applicant`` is JSON-ready (money as decimal strings)."""

    comment: str | None
    documents: tuple[dict[str, str], ...]
    applicant: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"comment": self.comment, "documents": list(self.documents), "applicant": self.applicant}


def _documents(data: Any, problems: list[tuple[str, str]]) -> tuple[dict[str, str], ...]:
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_DOCUMENTS:
        problems.append(("documents", f"must be a list of 1 to {MAX_DOCUMENTS} documents"))
        return ()
    documents = []
    for index, item in enumerate(data):
        where = f"documents.{index}"
        if not isinstance(item, Mapping):
            problems.append((where, "must be an object with type and reference"))
            continue
        problems.extend((f"{where}.{key}", "unknown field") for key in item if key not in DOCUMENT_FIELDS)
        document = {}
        for key, limit in DOCUMENT_LIMITS.items():
            value = item.get(key)
            if value is None and key == "description":
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                problems.append((f"{where}.{key}", f"is required: text of 1 to {limit} characters"
                                 if key != "description" else f"must be text of 1 to {limit} characters"))
            else:
                document[key] = value.strip()
        documents.append(document)
    return tuple(documents)


def _applicant_update(data: Any, problems: list[tuple[str, str]]) -> dict[str, Any]:
    if not isinstance(data, Mapping) or not data:
        problems.append(("applicant", "must be an object with at least one field"))
        return {}
    allowed = {"monthly_income", "monthly_debt_payments", *SUPPLEMENT_CHOICES, *SUPPLEMENT_NUMBERS}
    problems.extend((f"applicant.{key}", "unknown field (identity and the bank account cannot change here)")
                    for key in data if key not in allowed)
    update: dict[str, Any] = {}
    if ("monthly_income" in data) != ("monthly_debt_payments" in data):
        missing = "monthly_debt_payments" if "monthly_income" in data else "monthly_income"
        problems.append((f"applicant.{missing}", "income and debt payments come together (the DTI is recomputed)"))
    for key in ("monthly_income", "monthly_debt_payments"):
        if key in data:
            try:
                update[key] = str(parse_money(data[key], key, positive=key == "monthly_income"))
            except MoneyInputError as error:
                problems.append((f"applicant.{key}", error.reason))
    for key, options in SUPPLEMENT_CHOICES.items():
        if key in data and data[key] not in options:
            problems.append((f"applicant.{key}", f"must be one of {', '.join(options)}"))
        elif key in data:
            update[key] = data[key]
    for key, (low, high) in SUPPLEMENT_NUMBERS.items():
        value = data.get(key)
        if key in data and (isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not low <= value <= high
                            or (key == "dependants" and value != int(value))):
            problems.append((f"applicant.{key}", f"must be a number from {low} to {high}"))
        elif key in data:
            update[key] = str(value) if isinstance(value, Decimal) else value
    return update


def parse_supplement(data: Mapping[str, Any]) -> Supplement:
    """Check a resubmission document: at least one of ``comment``, ``documents``, ``applicant``.

    Raises:
        RequestProblems: every bad field by dotted name (``documents.0.reference``, ``applicant.housing``).
    """
    problems: list[tuple[str, str]] = [(key, "unknown field") for key in data if key not in SUPPLEMENT_FIELDS]
    if not any(data.get(key) is not None for key in SUPPLEMENT_FIELDS):
        problems.append(("", "send the missing data: comment, documents or applicant"))
    comment = data.get("comment")
    if comment is not None and (not isinstance(comment, str) or not comment.strip() or len(comment) > MAX_COMMENT):
        problems.append(("comment", f"must be text of 1 to {MAX_COMMENT} characters"))
    documents = _documents(data["documents"], problems) if data.get("documents") is not None else ()
    applicant = _applicant_update(data["applicant"], problems) if data.get("applicant") is not None else {}
    if problems:
        raise RequestProblems(problems)
    return Supplement(comment.strip() if isinstance(comment, str) else None, documents, applicant)


def _update_facts(session: Session, application: Application, supplement: Supplement,
                  first_installment: Decimal) -> None:
    """The new income and debts replace the facts the rules saw (DTI with the same first installment)."""
    if "monthly_income" not in supplement.applicant:
        return
    income = Decimal(supplement.applicant["monthly_income"])
    debts = Decimal(supplement.applicant["monthly_debt_payments"]) + first_installment
    decision = dict(application.decision or {})
    decision["context"] = {**decision.get("context", {}), "monthly_income": str(income), "dti": str(debts / income)}
    application.decision = decision
    customer = session.get(Customer, application.customer_id)
    if customer is not None:
        customer.monthly_income = income


def waiting_return(session: Session, application_id: int) -> ApplicationReturn | None:
    """The application's open return, if it waits for the channel."""
    return session.scalars(select(ApplicationReturn).where(ApplicationReturn.application_id == application_id,
                                                           ApplicationReturn.state == "waiting")
                           .order_by(ApplicationReturn.id.desc()).limit(1)).first()


def resubmit(session: Session, application: Application, offer: Offer, supplement: Supplement, *, actor: str,
             now: datetime | None = None) -> ApprovalTask:
    """The channel answers a return: the application goes back to the step it was returned from.

    A new task opens for that step (same step, role and four eyes; a fresh SLA of the same length).
    Income and debt payments, when supplied, replace the rule facts (the DTI is recomputed with the first
    installment of ``offer``'s schedule as at application) and the customer's income. The score is not
    recomputed and eligibility is not re-run: the reviewer judges the supplement.

    Raises:
        WrongStateError: the application is not returned, or the deadline to resubmit has passed.
    """
    now = now or _now()
    record = waiting_return(session, application.id) if application.state == "returned" else None
    if record is None:
        raise WrongStateError(f"state: application {application.id} is {application.state}, not returned",
                              field="state", value=application.state)
    if now > aware(record.resubmit_by):
        raise WrongStateError(f"state: the time to resubmit ended at {aware(record.resubmit_by).isoformat()}",
                              field="state", value="expired")
    old = session.get(ApprovalTask, record.task_id)
    assert old is not None
    task = ApprovalTask(application_id=application.id, step_index=old.step_index, step_name=dict(old.step_name),
                        role=old.role, four_eyes=old.four_eyes, due_at=now + (aware(old.due_at) - aware(
                            old.created_at)), state="open", approvals=[], reason=old.reason, created_at=now)
    session.add(task)
    session.flush()
    record.state, record.resubmitted_at, record.resubmitted_by = "resubmitted", now, actor
    record.supplement, record.reopened_task_id = supplement.as_json(), task.id
    APPLICATION_STATES.transition(session, application, "under_review", actor=actor, reason="resubmitted", at=now)
    application.review_step = "manual_review"
    first = offer.product.schedule(application.amount, application.term, application.method,
                                   local_date(application.created_at)).installments[0].total
    _update_facts(session, application, supplement, first)
    application.decision = {**(application.decision or {}), "outcome": "manual_review", "task_id": task.id}
    _publish_returns(session, application)
    return task


def expire_returns(session: Session, now: datetime | None = None) -> list[int]:
    """Expire every application whose time to resubmit has passed; return their ids.

    A return whose application ended otherwise (cancelled) is closed without a transition. Idempotent:
    a second run finds nothing. Call it from a periodic job (Celery beat, the end-of-day, a CLI).
    """
    now = now or _now()
    expired = []
    due = session.scalars(select(ApplicationReturn).where(ApplicationReturn.state == "waiting",
                                                          ApplicationReturn.resubmit_by <= now)
                          .order_by(ApplicationReturn.id).with_for_update())
    for record in list(due):
        application = session.get(Application, record.application_id, with_for_update=True)
        if application is None or application.state != "returned":
            record.state = "closed"
            continue
        record.state = "expired"
        APPLICATION_STATES.transition(session, application, "expired", actor="system:returns",
                                      reason=f"not resubmitted by {aware(record.resubmit_by).isoformat()}", at=now)
        application.decision = {**(application.decision or {}), "outcome": "expired"}
        _publish_returns(session, application)
        expired.append(application.id)
    return expired
