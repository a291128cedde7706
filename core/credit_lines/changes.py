"""Operators' changes to a line under dual control: freeze, unfreeze and adjust the limit (maker-checker).

A maker files the change (:func:`request_line_change`: checked at once, so a bad limit is refused before
anyone is asked); a second person holding ``credit_line.change.approve`` decides it
(:func:`decide_line_change`), and an approval carries it out in the same transaction through the line's life
cycle (:mod:`core.credit_lines.lifecycle`), the event naming both people. Requests and decisions are in the
audit log (:mod:`core.backoffice.audit`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.backoffice.audit import ChangeRequest, decide_change, request_change
from core.backoffice.users import User
from core.credit_lines import lifecycle
from core.credit_lines.models import CreditLine
from core.errors import InvalidArgumentError, WrongStateError
from core.money import parse_money
from core.origination.errors import NotFoundError
from core.origination.published import offer_of_version
from core.products.credit_line import LineTerms

KINDS = ("credit_line_freeze", "credit_line_unfreeze", "credit_line_adjust")
#: the state a line must be in for each change
NEEDS = {"credit_line_freeze": ("active",), "credit_line_unfreeze": ("frozen",),
         "credit_line_adjust": ("active", "frozen")}


def _line(session: Session, line_id: int) -> CreditLine:
    line = session.get(CreditLine, line_id)
    if line is None:
        raise NotFoundError(f"credit line {line_id} not found", field="line_id", value=line_id)
    return line


def _check(session: Session, line: CreditLine, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind: unknown change {kind!r}", field="kind", value=kind)
    if line.state not in NEEDS[kind]:
        raise WrongStateError(f"state: cannot {kind.removeprefix('credit_line_')} a line that is {line.state}",
                              field="state", value=line.state)
    if kind != "credit_line_adjust":
        return {}
    limit = parse_money(params.get("limit"), "limit")
    largest = LineTerms.of(offer_of_version(session, line.product_version_id).product).limit.max
    if limit > largest:
        raise InvalidArgumentError(f"limit: at most the product's largest limit {largest:.2f}", field="limit",
                                   value=limit)
    return {"limit": f"{limit:.2f}", "from": f"{line.limit:.2f}"}


def request_line_change(session: Session, *, maker: User, line_id: int, kind: str, params: dict[str, Any],
                        reason: str) -> ChangeRequest:
    """File a change of line ``line_id`` for a second person to decide.

    Raises:
        NotFoundError, WrongStateError, InvalidArgumentError: the change cannot apply (field named).
        PermissionDeniedError: ``maker`` may not request it.
    """
    if not (reason or "").strip():
        raise InvalidArgumentError("reason: say why", field="reason")
    line = _line(session, line_id)
    checked = _check(session, line, kind, params)
    return request_change(session, maker=maker, kind=kind, entity_type="credit_line", entity_id=line_id,
                          params=checked, reason=reason.strip())


def decide_line_change(session: Session, change: ChangeRequest, *, checker: User, approve: bool, comment: str = "",
                       now: datetime | None = None) -> ChangeRequest:
    """Decide a filed change; an approval carries it out at once (the line is checked again).

    Raises:
        FourEyesError, PermissionDeniedError, ChangeRequestClosedError: as :func:`decide_change`.
        WrongStateError, InvalidArgumentError: the line changed since and the change no longer applies.
    """
    decide_change(session, change, checker=checker, approve=approve, comment=comment, at=now)
    if not approve:
        return change
    line = lifecycle.line_for_update(session, int(change.entity_id))
    _check(session, line, change.kind, change.params)
    actor = f"{change.maker} / {checker.username}"
    reason = f"request {change.id}: {change.reason}"
    if change.kind == "credit_line_freeze":
        lifecycle.freeze(session, line, actor=actor, reason=reason, now=now)
    elif change.kind == "credit_line_unfreeze":
        lifecycle.unfreeze(session, line, actor=actor, reason=reason, now=now)
    else:
        offer = offer_of_version(session, line.product_version_id)
        lifecycle.adjust(session, line, offer, change.params["limit"], actor=actor, reason=reason, now=now)
    change.state = "executed"
    return change
