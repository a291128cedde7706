"""Lifecycles as tables: each state machine is one mapping of the legal transitions.

A :class:`StateMachine` is data: ``{state: frozenset of states it may move to}``. There is no other
place a rule about states lives, so a test can walk the full cross product of states and check every pair.
:meth:`StateMachine.transition` moves an entity (any object with ``id`` and ``state``), refusing an
illegal move with :class:`IllegalTransitionError`, and records the move (entity type, id, from, to, actor,
time, reason) as a :class:`StateTransition` row in the caller's session. :meth:`StateMachine.start`
records the birth of an entity in its initial state (from ``None``). Their ``_written`` twins
(:meth:`StateMachine.start_written`, :meth:`StateMachine.transition_written`) write the records at once
with Core statements instead of leaving ORM rows to the next flush, for the hot paths; whoever announces
state changes before a commit finds those records in ``session.info[WRITTEN]`` (the ORM's are in the
flush's new objects).

The application machine is the issue's line plus what a Fineract user expects: an application can be
cancelled (withdrawn by the applicant or by operations) at any step before money moves, drafts and
pending offers expire, and a failed disbursement can be retried or given up. A reviewer may return an
application for supplement (退回补件, Mambu's "set incomplete"): ``returned`` goes back to
``under_review`` when the channel resubmits, and expires when it does not in time. The borrower's acceptance
of the approved offer is a state of its own (``accepted``): an offer accepted before its deadline no longer
lapses, and only an accepted application has a contract to sign. An approved application for a credit-line
product ends ``line_granted`` when the borrower accepts the line instead (:mod:`core.credit_lines`); each
drawdown on the line is an application of its own that goes through ``accepted`` and becomes a loan. The loan
machine lets a paid-off or prepaid loan reopen (a reversed closing repayment puts it back to active or
overdue, as Fineract's "undo transaction" does); a written-off loan is final.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Table, Text, event, insert, select
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from core.db.base import Base
from core.db.direct import insert_now, insert_rows
from core.errors import InvalidArgumentError, LoanFactoryError


class IllegalTransitionError(LoanFactoryError):
    """A state change that the entity's machine does not list (e.g. a rejected application approved)."""

    def __init__(self, entity: str, entity_id: object, from_state: str | None, to_state: str,
                 allowed: frozenset[str] = frozenset()) -> None:
        options = ", ".join(sorted(allowed)) or "none"
        super().__init__(
            f"state: {entity} {entity_id} cannot go from {from_state!r} to {to_state!r} (allowed: {options})",
            field="state",
            value=to_state,
        )
        self.entity = entity
        self.entity_id = entity_id
        self.from_state = from_state
        self.to_state = to_state


class StateTransition(Base):
    """One recorded state change; ``from_state`` is ``None`` for the entity's creation."""

    __tablename__ = "state_transitions"
    __table_args__ = (Index("ix_state_transitions_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


#: ``session.info`` key: the records written with Core statements in the session's transaction, as the
#: values of their rows, oldest first; dropped when the transaction ends (a listener announcing state changes
#: before the commit takes them first). Written outside any savepoint the caller may roll back.
WRITTEN = "core.states.written"
_NEW_RECORDS = insert(cast(Table, StateTransition.__table__)).inline()  # inline: no RETURNING of the ids


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WRITTEN, None)


@dataclass(frozen=True)
class StateMachine:
    """A lifecycle: ``transitions[state]`` is the set of states reachable in one step.

    Args:
        entity: the entity type recorded in ``state_transitions`` (``"application"``, ``"loan"``).
        initial: the state an entity is born in.
        transitions: every state (terminal ones with an empty set) and its legal next states.
    """

    entity: str
    initial: str
    transitions: Mapping[str, frozenset[str]] = field(repr=False)

    def __post_init__(self) -> None:
        unknown = {t for targets in self.transitions.values() for t in targets} - set(self.transitions)
        if self.initial not in self.transitions or unknown:
            raise ValueError(f"{self.entity}: states {sorted(unknown)} or initial {self.initial!r} not in the table")

    @property
    def states(self) -> frozenset[str]:
        """Every state of the machine."""
        return frozenset(self.transitions)

    @property
    def terminal(self) -> frozenset[str]:
        """The states with no way out."""
        return frozenset(s for s, targets in self.transitions.items() if not targets)

    def can(self, from_state: str, to_state: str) -> bool:
        """Whether ``from_state -> to_state`` is legal."""
        return to_state in self.transitions.get(from_state, frozenset())

    def check(self, from_state: str, to_state: str, entity_id: object = None) -> None:
        """Raise :class:`IllegalTransitionError` unless ``from_state -> to_state`` is legal."""
        if not self.can(from_state, to_state):
            allowed = self.transitions.get(from_state, frozenset())
            raise IllegalTransitionError(self.entity, entity_id, from_state, to_state, allowed)

    def start(self, session: Session, obj: Any, *, actor: str, reason: str | None = None,
              at: datetime | None = None, then: Sequence[tuple[str, str]] = ()) -> StateTransition:
        """Put a new ``obj`` in the initial state and record its creation (flushes to get its id).

        Args:
            then: moves made at once, ``(state, actor)`` after ``(state, actor)``, each checked and recorded as
                :meth:`transition` does; the flush then inserts ``obj`` already in its last state, so no
                UPDATE follows for the moves.

        Returns:
            The record of the creation.

        Raises:
            IllegalTransitionError: a move of ``then`` is not in the table; ``obj`` is left unchanged.
        """
        records = [self._record(session, obj, *move, at) for move in self._creation(obj, actor, reason, then)]
        return records[0]

    def start_written(self, session: Session, obj: Any, *, actor: str, reason: str | None = None,
                      at: datetime | None = None, then: Sequence[tuple[str, str]] = (),
                      insert: Callable[[Session, Any], object] = insert_now) -> object:
        """:meth:`start` with two Core statements and no flush: ``obj`` is inserted already in its last state
        (by ``insert``: :func:`core.db.direct.insert_now` unless the caller inserts it otherwise), then the
        records of its creation and of the moves ``then`` (see :data:`WRITTEN`).

        Returns:
            What ``insert`` returned.

        Raises:
            IllegalTransitionError: a move of ``then`` is not in the table; nothing is written.
        """
        moves = self._creation(obj, actor, reason, then)
        inserted = insert(session, obj)
        at = at or datetime.now(UTC)
        self._write(session, [self._values(obj.id, *move, at) for move in moves])
        return inserted

    def _creation(self, obj: Any, actor: str, reason: str | None,
                  then: Sequence[tuple[str, str]]) -> list[tuple[str | None, str, str, str | None]]:
        """The moves of a creation followed by ``then``, checked; ``obj`` is put in the last state."""
        _require_actor(actor)
        path = [self.initial]
        for to_state, mover in then:
            _require_actor(mover)
            self.check(path[-1], to_state, getattr(obj, "id", None))
            path.append(to_state)
        obj.state = path[-1]
        moves: list[tuple[str | None, str, str, str | None]] = [(None, self.initial, actor, reason)]
        moves += [(before, to_state, mover, None) for (to_state, mover), before in zip(then, path[:-1], strict=True)]
        return moves

    def transition(self, session: Session, obj: Any, to_state: str, *, actor: str, reason: str | None = None,
                   at: datetime | None = None) -> StateTransition:
        """Move ``obj`` to ``to_state`` and record who did it, when and why.

        Raises:
            IllegalTransitionError: the move is not in the table; ``obj`` is left unchanged.
        """
        from_state = self._move(obj, to_state, actor)
        return self._record(session, obj, from_state, to_state, actor, reason, at)

    def transition_written(self, session: Session, obj: Any, to_state: str, *, actor: str, reason: str | None = None,
                           at: datetime | None = None) -> None:
        """:meth:`transition` for an entity in the database already, its record written at once with a Core
        statement (no ORM object, nothing for the flush; see :data:`WRITTEN`).

        Raises:
            IllegalTransitionError: the move is not in the table; ``obj`` is left unchanged.
        """
        from_state = self._move(obj, to_state, actor)
        self._write(session, [self._values(obj.id, from_state, to_state, actor, reason, at or datetime.now(UTC))])

    def _move(self, obj: Any, to_state: str, actor: str) -> str:
        """Check the move and put ``obj`` in ``to_state``; returns the state it left."""
        from_state: str = obj.state
        _require_actor(actor)
        self.check(from_state, to_state, getattr(obj, "id", None))
        obj.state = to_state
        return from_state

    def _record(self, session: Session, obj: Any, from_state: str | None, to_state: str, actor: str,
                reason: str | None, at: datetime | None) -> StateTransition:
        if getattr(obj, "id", None) is None:
            session.add(obj)
            session.flush()
        row = StateTransition(**self._values(obj.id, from_state, to_state, actor, reason, at or datetime.now(UTC)))
        session.add(row)
        return row

    def _values(self, entity_id: int, from_state: str | None, to_state: str, actor: str, reason: str | None,
                at: datetime) -> dict[str, Any]:
        return {"entity_type": self.entity, "entity_id": entity_id, "from_state": from_state, "to_state": to_state,
                "actor": actor, "at": at, "reason": reason}

    def _write(self, session: Session, rows: list[dict[str, Any]]) -> None:
        insert_rows(session, _NEW_RECORDS, rows)
        session.info.setdefault(WRITTEN, []).extend(rows)

    def history(self, session: Session, entity_id: int) -> list[StateTransition]:
        """The recorded transitions of one entity, oldest first."""
        return list(session.scalars(select(StateTransition)
                                    .where(StateTransition.entity_type == self.entity,
                                           StateTransition.entity_id == entity_id)
                                    .order_by(StateTransition.id)))


def _require_actor(actor: str) -> None:
    if not actor or not actor.strip():
        raise InvalidArgumentError("actor: every state change needs an actor", field="actor", value=actor)


def _table(rows: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    return {state: frozenset(targets) for state, targets in rows.items()}


APPLICATION_STATES = StateMachine("application", "draft", _table({
    "draft": ("submitted", "cancelled", "expired"),
    "submitted": ("under_review", "cancelled", "expired"),
    "under_review": ("approved", "rejected", "returned", "cancelled", "expired"),
    "returned": ("under_review", "cancelled", "expired"),
    "approved": ("accepted", "line_granted", "cancelled", "expired"),
    "accepted": ("contract_signed", "cancelled"),
    "contract_signed": ("disbursing", "cancelled"),
    "disbursing": ("disbursed", "disbursement_failed"),
    "disbursement_failed": ("disbursing", "cancelled"),
    "rejected": (),
    "cancelled": (),
    "expired": (),
    "disbursed": (),
    "line_granted": (),
}))

LOAN_STATES = StateMachine("loan", "active", _table({
    "active": ("overdue", "paid_off", "prepaid_closed", "written_off"),
    "overdue": ("active", "paid_off", "prepaid_closed", "written_off"),
    "paid_off": ("active", "overdue"),
    "prepaid_closed": ("active", "overdue"),
    "written_off": (),
}))

#: a debit instruction (:mod:`core.debits.models`); made in bulk by the due run (its birth is the row
#: itself), its answer (and a cancellation) recorded as a transition, so that ``debit.succeeded`` /
#: ``debit.failed`` reach the webhooks
DEBIT_STATES = StateMachine("debit", "created", _table({
    "created": ("sending", "cancelled", "skipped", "stopped"),
    "sending": ("sent", "succeeded", "partial", "failed"),
    "sent": ("succeeded", "partial", "failed"),
    "succeeded": (),
    "partial": (),
    "failed": (),
    "cancelled": (),
    "skipped": (),
    "stopped": (),
}))
