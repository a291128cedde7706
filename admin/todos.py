"""What waits for the signed-in user: one count per queue their roles may work on.

Each queue names the permission needed to work it; the cockpit shows only the queues the user holds, so a
product manager sees reviews, a risk officer the approval inbox, finance the waivers to approve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.backoffice.audit import CHANGE_KINDS, count_pending
from core.backoffice.users import can
from core.credit_lines.changes import KINDS as LINE_KINDS
from core.early_warning.models import EarlyWarning
from core.origination.approval import ApprovalTask
from core.products.models import ProductVersion


@dataclass(frozen=True)
class Todo:
    key: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Queue:
    key: str
    label: object
    permission: str
    count: Callable[[Session], int]
    endpoint: str


def _products_in_review(session: Session) -> int:
    return session.scalar(select(func.count(ProductVersion.id)).where(ProductVersion.status == "in_review")) or 0


def _open_warnings(session: Session) -> int:
    return session.scalar(select(func.count(EarlyWarning.id)).where(EarlyWarning.state == "open")) or 0


def _tasks_for_my_roles(session: Session) -> int:
    roles = [role.value for role in current_user.roles]
    return session.scalar(select(func.count(ApprovalTask.id)).where(ApprovalTask.state == "open",
                                                                    ApprovalTask.role.in_(roles))) or 0


QUEUES: list[Queue] = [
    Queue("approvals", _l("Applications to approve"), "approval.decide", _tasks_for_my_roles, "approvals.index"),
    Queue("product_reviews", _l("Product versions to review"), "product.publish", _products_in_review,
          "products.index"),
    Queue("waivers", _l("Penalty waivers to approve"), CHANGE_KINDS["penalty_waiver"][1],
          lambda s: count_pending(s, ("penalty_waiver",)), "loans.requests"),
    Queue("write_offs", _l("Write-offs to approve"), CHANGE_KINDS["write_off"][1],
          lambda s: count_pending(s, ("write_off",)), "loans.requests"),
    Queue("line_changes", _l("Credit-line changes to approve"), "credit_line.change.approve",
          lambda s: count_pending(s, LINE_KINDS), "credit_lines.requests"),
    Queue("warnings", _l("Early warnings to handle"), "warning.handle", _open_warnings, "credit_lines.warnings"),
]



def for_current_user(session: Session) -> list[Todo]:
    """The queues the user's roles may work on, with their counts (empty queues included)."""
    return [Todo(q.key, str(q.label), q.count(session), url_for(q.endpoint)) for q in QUEUES
            if can(current_user, q.permission)]
