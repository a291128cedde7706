"""The approval chain of a product and the manual-review queue.

A product's ``approval`` steps run in order after eligibility and scoring (see the product schema). An
automatic step whose ``condition`` holds ends the chain with its outcome (``approve``/``reject``) or goes
on (``continue``); a manual step whose ``when`` holds (or has none) queues an :class:`ApprovalTask` for
its ``role`` with a deadline of ``sla_hours`` and stops the chain; when ``four_eyes_when`` holds, two
different people must approve. Reaching the end approves.

:func:`run_chain` evaluates from a step on; :func:`decide_task` records a person's decision and, once a
manual step is approved, runs the rest of the chain. A task opened because a plugin failed
(``step_index`` = :data:`FAILURE_REVIEW`) is the whole decision: the reviewer underwrites the application.

Besides approve and reject, a reviewer may return the application for supplement
(:mod:`core.origination.returns`). In a four-eyes step the second reviewer may instead :func:`send_back`
the first approval: it no longer counts and the task waits for its author (:func:`awaiting`); each
send-back starts a new round of decisions (:func:`current_round`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base
from core.errors import InvalidArgumentError, WrongStateError
from core.origination.errors import NotFoundError
from core.products.expressions import Condition, compile_condition

FAILURE_REVIEW = -1
DEFAULT_REVIEW_ROLE = "risk_officer"
DEFAULT_SLA_HOURS = 24
MAX_COMMENT = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class ApprovalTask(Base):
    """A manual step waiting for a person: the role that may decide, the deadline, the decisions so far."""

    __tablename__ = "approval_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    step_index: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[dict[str, str]] = mapped_column(JSON)
    role: Mapped[str] = mapped_column(String(40), index=True)
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def approvals_needed(self) -> int:
        return 2 if self.four_eyes else 1


@dataclass(frozen=True)
class ChainOutcome:
    """Where the chain stopped: ``approve``, ``reject`` (with a reason code) or ``manual`` (with the task)."""

    outcome: str
    reason_code: str | None = None
    step_index: int | None = None
    task: ApprovalTask | None = None


@lru_cache(maxsize=1024)
def compiled(condition: str) -> Condition:
    """``condition`` (a rule's or a step's text) compiled once per process: a compiled condition is
    immutable, and the texts come from published versions, which never change."""
    return compile_condition(condition)


def holds(condition: str | None, context: Mapping[str, object]) -> bool:
    """Whether a step condition holds; an absent condition holds."""
    return True if not condition else compiled(condition).evaluate(context)


def open_task(session: Session, application_id: int, step_index: int, step: Mapping[str, Any], *,
              four_eyes: bool, now: datetime, reason: str | None = None) -> ApprovalTask:
    """Queue a manual task for ``step`` of an application."""
    sla = int(step.get("sla_hours", DEFAULT_SLA_HOURS))
    task = ApprovalTask(application_id=application_id, step_index=step_index,
                        step_name=dict(step.get("name") or {"zh": "人工审核", "en": "Manual review"}),
                        role=str(step.get("role", DEFAULT_REVIEW_ROLE)), four_eyes=four_eyes,
                        due_at=now + timedelta(hours=sla), state="open", approvals=[], reason=reason)
    session.add(task)
    session.flush()
    return task


def run_chain(session: Session, application_id: int, steps: Sequence[Mapping[str, Any]], context: Mapping[str, object],
              *, start: int = 0, now: datetime | None = None) -> ChainOutcome:
    """Evaluate ``steps`` from ``start`` for an application with ``context`` (the condition variables).

    Raises:
        ConditionEvaluationError: a condition needs a variable the context lacks (a product defect).
    """
    now = now or _now()
    for index in range(start, len(steps)):
        step = steps[index]
        if step["kind"] == "automatic":
            if not holds(step.get("condition"), context):
                continue
            outcome = step.get("outcome", "continue")
            if outcome == "continue":
                continue
            return ChainOutcome(outcome, step.get("reason_code") or ("AUTO_REJECT" if outcome == "reject" else None),
                                index)
        if holds(step.get("when"), context):
            four_eyes = bool(step.get("four_eyes_when")) and holds(step.get("four_eyes_when"), context)
            task = open_task(session, application_id, index, step, four_eyes=four_eyes, now=now)
            return ChainOutcome("manual", None, index, task)
    return ChainOutcome("approve")


def open_tasks(session: Session, role: str | None = None) -> list[ApprovalTask]:
    """The queue: open tasks (of ``role``), oldest deadline first."""
    query = select(ApprovalTask).where(ApprovalTask.state == "open")
    if role:
        query = query.where(ApprovalTask.role == role)
    return list(session.scalars(query.order_by(ApprovalTask.due_at, ApprovalTask.id)))


def current_round(task: ApprovalTask) -> list[dict[str, Any]]:
    """The task's entries since it was last sent back (all of them when it never was)."""
    entries = list(task.approvals)
    starts = [i for i, entry in enumerate(entries) if entry.get("action") == "send_back"]
    return entries[starts[-1] + 1:] if starts else entries


def awaiting(task: ApprovalTask) -> str | None:
    """The reviewer a four-eyes task was sent back to, while they have not acted again."""
    entries = list(task.approvals)
    if entries and entries[-1].get("action") == "send_back":
        return str(entries[-1]["to"])
    return None


def check_turn(task: ApprovalTask, actor: str) -> None:
    """Raise :class:`WrongStateError` unless ``task`` is open and ``actor`` may act on it now."""
    if task.state != "open":
        raise WrongStateError(f"task: approval task {task.id} is already {task.state}", field="task", value=task.id)
    waiting_for = awaiting(task)
    if waiting_for is not None and waiting_for != actor:
        raise WrongStateError(f"actor: task {task.id} was sent back to {waiting_for}, who decides next",
                              field="actor", value=actor)


def record_decision(task: ApprovalTask, *, actor: str, approve: bool, note: str | None,
                    now: datetime | None = None) -> str:
    """Add ``actor``'s decision to ``task``; return the task's state afterwards.

    A rejection closes the task at once; an approval closes it once ``approvals_needed`` different
    people approved in the current round (a send-back starts a new one).

    Raises:
        WrongStateError: the task is already decided, waits for the reviewer it was sent back to, or
            ``actor`` already decided it in this round (four eyes).
    """
    now = now or _now()
    check_turn(task, actor)
    if any(entry["actor"] == actor for entry in current_round(task)):
        raise WrongStateError(f"actor: {actor} already decided task {task.id}; four eyes need another person",
                              field="actor", value=actor)
    entry = {"actor": actor, "approve": approve, "note": note, "at": now.isoformat()}
    task.approvals = [*task.approvals, entry]
    if not approve:
        task.state = "rejected"
        task.decided_at = now
    elif sum(1 for e in current_round(task) if e["approve"]) >= task.approvals_needed:
        task.state = "approved"
        task.decided_at = now
    return task.state


def require_comment(comment: str | None, what: str) -> str:
    """``comment`` stripped, or :class:`InvalidArgumentError` when empty or longer than :data:`MAX_COMMENT`."""
    text = (comment or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidArgumentError(f"comment: {what} needs a comment of 1 to {MAX_COMMENT} characters",
                                   field="comment", value=comment)
    return text


def send_back(task: ApprovalTask, *, actor: str, comment: str | None, now: datetime | None = None) -> str:
    """The second reviewer of a four-eyes task sends the first approval back to its author.

    The first approval stops counting; the task waits for that reviewer, who may approve again (then
    another person must still approve), reject, or return the application. Returns the reviewer it went to.

    Raises:
        InvalidArgumentError: no comment (the first reviewer must learn why).
        WrongStateError: not a four-eyes task, nobody approved it yet in this round, ``actor`` is the
            approver, or it is not ``actor``'s turn.
    """
    now = now or _now()
    text = require_comment(comment, "sending an approval back")
    check_turn(task, actor)
    approvers = [e["actor"] for e in current_round(task) if e["approve"]]
    if not task.four_eyes or not approvers:
        raise WrongStateError(f"task: task {task.id} has no first approval to send back", field="task",
                              value=task.id)
    if actor in approvers:
        raise WrongStateError(f"actor: {actor} cannot send back their own approval", field="actor", value=actor)
    entry = {"actor": actor, "approve": False, "action": "send_back", "to": approvers[0], "note": text,
             "at": now.isoformat()}
    task.approvals = [*task.approvals, entry]
    return str(approvers[0])


def task_by_id(session: Session, task_id: int) -> ApprovalTask:
    """The task, or :class:`NotFoundError`."""
    task = session.get(ApprovalTask, task_id, with_for_update=True)
    if task is None:
        raise NotFoundError(f"task: approval task {task_id} not found", field="task", value=task_id)
    return task

