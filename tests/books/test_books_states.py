"""State machines: every pair of states outside the table is refused, every legal move is recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, event, func, insert, select

from books.factories import add_customer
from core.applications.models import Application
from core.credit_lines.lifecycle import LINE_STATES
from core.customers.parties import Customer
from core.db.base import Base, make_engine, make_session_factory
from core.db.direct import batched_inserts, insert_now_after, update_now
from core.errors import InvalidArgumentError
from core.loans.models import Loan
from core.states import APPLICATION_STATES, LOAN_STATES, IllegalTransitionError, StateMachine, StateTransition

MACHINES = {"application": APPLICATION_STATES, "loan": LOAN_STATES, "credit_line": LINE_STATES}

#: the lifecycles as the issue and docs/ledger.md state them, written out independently of core.states
EXPECTED = {
    "application": {
        ("draft", "submitted"), ("submitted", "under_review"), ("under_review", "approved"),
        ("under_review", "rejected"), ("approved", "accepted"), ("accepted", "contract_signed"),
        ("accepted", "cancelled"), ("contract_signed", "disbursing"),
        ("disbursing", "disbursed"), ("disbursing", "disbursement_failed"), ("disbursement_failed", "disbursing"),
        ("draft", "cancelled"), ("submitted", "cancelled"), ("under_review", "cancelled"), ("approved", "cancelled"),
        ("contract_signed", "cancelled"), ("disbursement_failed", "cancelled"),
        ("draft", "expired"), ("submitted", "expired"), ("under_review", "expired"), ("approved", "expired"),
        ("under_review", "returned"), ("returned", "under_review"), ("returned", "cancelled"), ("returned", "expired"),
        ("approved", "line_granted"),
    },
    "loan": {
        ("active", "overdue"), ("overdue", "active"),
        ("active", "paid_off"), ("active", "prepaid_closed"), ("active", "written_off"),
        ("overdue", "paid_off"), ("overdue", "prepaid_closed"), ("overdue", "written_off"),
        ("paid_off", "active"), ("paid_off", "overdue"), ("prepaid_closed", "active"), ("prepaid_closed", "overdue"),
    },
    "credit_line": {
        ("active", "frozen"), ("frozen", "active"), ("active", "expired"), ("frozen", "expired"),
        ("active", "closed"), ("frozen", "closed"), ("expired", "closed"),
    },
}


class Thing:
    """Any entity with an id and a state will do."""

    def __init__(self, state: str) -> None:
        self.id = 7
        self.state = state


@pytest.mark.parametrize("name", MACHINES)
def test_the_tables_are_exactly_the_documented_lifecycles(name):
    machine = MACHINES[name]
    legal = {(a, b) for a, b in product(machine.states, repeat=2) if machine.can(a, b)}
    assert legal == EXPECTED[name]


ALL_PAIRS = [(name, a, b) for name, m in MACHINES.items() for a, b in product(sorted(m.states), repeat=2)]


@pytest.mark.parametrize(("name", "from_state", "to_state"), ALL_PAIRS)
def test_every_pair_is_refused_unless_in_the_table(name, from_state, to_state):
    machine = MACHINES[name]
    thing = Thing(from_state)
    if (from_state, to_state) in EXPECTED[name]:
        machine.check(from_state, to_state)
        return
    with pytest.raises(IllegalTransitionError) as info:
        machine.transition(None, thing, to_state, actor="tester")  # type: ignore[arg-type]
    error = info.value
    assert (error.entity, error.entity_id, error.from_state, error.to_state) == (name, 7, from_state, to_state)
    assert f"{from_state!r}" in str(error) and f"{to_state!r}" in str(error)
    assert thing.state == from_state


def test_terminal_states():
    assert APPLICATION_STATES.terminal == {"rejected", "cancelled", "expired", "disbursed", "line_granted"}
    assert LINE_STATES.terminal == {"closed"}
    assert LOAN_STATES.terminal == {"written_off"}


def test_a_table_naming_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="ghost"):
        StateMachine("x", "a", {"a": frozenset({"ghost"})})


def _new_application(session) -> Application:
    customer = session.scalar(select(Customer)) or add_customer(session)
    return Application(customer_id=customer.id, channel="wechat", product_code="cash_12m", product_version_id=3,
                       amount=Decimal("20000.00"), term=12, method="equal_installment",
                       consents={"credit_bureau": True})


def _application(session) -> Application:
    application = _new_application(session)
    APPLICATION_STATES.start(session, application, actor="channel:wechat", reason="created by API")
    return application


def test_an_application_submitted_and_taken_into_review_as_it_is_created_is_inserted_under_review(db_session):
    application = _new_application(db_session)
    sent: list[str] = []
    event.listen(db_session.get_bind(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: sent.append(statement))
    APPLICATION_STATES.start(db_session, application, actor="channel:wechat", reason="created by API",
                             then=(("submitted", "channel:wechat"), ("under_review", "system:origination")))
    db_session.commit()
    rows = APPLICATION_STATES.history(db_session, application.id)
    assert [(r.from_state, r.to_state, r.actor, r.reason) for r in rows] == [
        (None, "draft", "channel:wechat", "created by API"), ("draft", "submitted", "channel:wechat", None),
        ("submitted", "under_review", "system:origination", None)]
    assert db_session.get(Application, application.id).state == "under_review"
    assert not [statement for statement in sent if statement.startswith("UPDATE applications")]


def test_an_application_written_with_core_statements_is_inserted_under_review_with_its_records(db_session):
    application = _new_application(db_session)
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    APPLICATION_STATES.start_written(db_session, application, actor="channel:wechat", reason="created by API", at=at,
                                     then=(("submitted", "channel:wechat"), ("under_review", "system:origination")))
    assert application.id is not None and application.created_at is not None and application.score is None
    assert not db_session.new and not db_session.dirty  # nothing is left for a flush
    application.decision = {"outcome": "approved"}
    APPLICATION_STATES.transition_written(db_session, application, "approved", actor="system:origination", at=at)
    update_now(db_session, application)
    assert not db_session.dirty and db_session.get(Application, application.id) is application
    db_session.commit()
    rows = APPLICATION_STATES.history(db_session, application.id)
    assert [(r.from_state, r.to_state, r.actor, r.reason) for r in rows] == [
        (None, "draft", "channel:wechat", "created by API"), ("draft", "submitted", "channel:wechat", None),
        ("submitted", "under_review", "system:origination", None),
        ("under_review", "approved", "system:origination", None)]
    db_session.expire_all()
    stored = db_session.get(Application, application.id)
    assert (stored.state, stored.decision) == ("approved", {"outcome": "approved"})


@pytest.mark.postgres
def test_an_application_inserted_with_the_customer_it_refers_to_is_one_statement_or_nothing(postgres_url):
    engine = make_engine(postgres_url)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    customers = cast(Table, Customer.__table__)
    new_customer = (insert(customers).from_select(
        ["name", "id_number", "id_number_index", "phone", "phone_index"],
        select(bindparam("name"), bindparam("id_number"), bindparam("index"), bindparam("phone"), bindparam("index")))
        .returning(customers.c.id.label("customer_id")).cte("new_customer"))
    try:
        sent: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda _conn, _cursor, statement, *_rest: sent.append(statement))
        application = Application(channel="wechat", product_code="cash_12m", product_version_id=3,
                                  amount=Decimal("20000.00"), term=12, method="equal_installment")
        values = {"name": "c1", "id_number": "x", "phone": "y", "index": "idx-1"}
        inserted = APPLICATION_STATES.start_written(
            session, application, actor="channel:wechat",
            insert=lambda s, a: insert_now_after(s, a, new_customer, values))
        assert inserted is True and len([s for s in sent if "INSERT INTO applications" in s]) == 1
        customer_id = session.scalar(select(Customer.id).where(Customer.id_number_index == "idx-1"))
        assert application.customer_id == customer_id and application.id is not None
        assert application.state == "draft" and not session.new and not session.dirty
        assert session.get(Application, application.id) is application
        # a source that returns no row: nothing of the application is inserted, and it stays transient
        nothing = select(customers.c.id.label("customer_id")).where(customers.c.id < 0).cte("no_customer")
        other = Application(channel="wechat", product_code="cash_12m", product_version_id=3,
                            amount=Decimal("1000.00"), term=12, method="equal_installment", state="draft")
        assert insert_now_after(session, other, nothing, {}) is False
        assert other.id is None and other not in session
        session.commit()
        assert session.scalar(select(func.count()).select_from(Application)) == 1
    finally:
        session.close()
        engine.dispose()


def test_the_records_of_a_batched_block_are_written_as_it_ends_in_one_statement(db_session):
    application = _new_application(db_session)
    sent: list[str] = []
    event.listen(db_session.get_bind(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: sent.append(" ".join(statement.split())))
    with batched_inserts(db_session):
        APPLICATION_STATES.start_written(db_session, application, actor="channel:wechat",
                                         then=(("submitted", "channel:wechat"), ("under_review", "system:origination")))
        with batched_inserts(db_session):  # an inner block adds to the outer one
            APPLICATION_STATES.transition_written(db_session, application, "approved", actor="system:origination")
        assert not [s for s in sent if "INSERT INTO state_transitions" in s]  # nothing written yet
        update_now(db_session, application)
    written = [s for s in sent if "INSERT INTO state_transitions" in s]
    if db_session.get_bind().dialect.name == "postgresql":  # the records ride in the decision's UPDATE
        assert len(written) == 1 and written[0].startswith("WITH") and "UPDATE applications" in written[0]
    else:
        assert len(written) == 1 and written[0].startswith("INSERT INTO state_transitions")
    db_session.commit()
    assert [(r.from_state, r.to_state) for r in APPLICATION_STATES.history(db_session, application.id)] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "under_review"), ("under_review", "approved")]
    db_session.expire_all()
    assert db_session.get(Application, application.id).state == "approved"


def test_a_batch_of_rows_of_several_tables_is_one_statement_on_postgresql(db_session):
    from core.plugins.manager import CallRecord, PluginCall, record_in_session

    application = _new_application(db_session)
    sent: list[str] = []
    event.listen(db_session.get_bind(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: sent.append(statement.split()[0]))
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with batched_inserts(db_session):
        APPLICATION_STATES.start_written(db_session, application, actor="channel:wechat", at=at)
        del sent[:]
        for hook in ("bureau_query", "score_application"):
            record_in_session(CallRecord(plugin="p", hook=hook, subject=f"application:{application.id}",
                                         started_at=at, duration_ms=1.5, outcome="ok", error=None), db_session)
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    assert sent == (["WITH"] if postgresql else ["INSERT", "INSERT"])
    calls = db_session.execute(select(PluginCall.hook, PluginCall.started_at, PluginCall.duration_ms, PluginCall.error)
                               .order_by(PluginCall.id)).all()
    assert [(c.hook, c.duration_ms, c.error) for c in calls] == [
        ("bureau_query", 1.5, None), ("score_application", 1.5, None)]
    if postgresql:  # the rows went as one JSON document: the time comes back exact, zone and all
        assert {c.started_at for c in calls} == {at}
    assert [r.to_state for r in APPLICATION_STATES.history(db_session, application.id)] == ["draft"]


def test_the_records_of_a_batched_block_that_raises_are_dropped(db_session):
    application = _new_application(db_session)
    with pytest.raises(RuntimeError), batched_inserts(db_session):
        APPLICATION_STATES.start_written(db_session, application, actor="channel:wechat")
        raise RuntimeError("the caller rolls back")
    assert APPLICATION_STATES.history(db_session, application.id) == []
    APPLICATION_STATES.transition_written(db_session, application, "submitted", actor="channel:wechat")
    assert [r.to_state for r in APPLICATION_STATES.history(db_session, application.id)] == ["submitted"]


def test_an_illegal_move_at_creation_is_refused_and_nothing_is_created(db_session):
    application = _new_application(db_session)
    with pytest.raises(IllegalTransitionError):
        APPLICATION_STATES.start(db_session, application, actor="channel:wechat",
                                 then=(("submitted", "channel:wechat"), ("approved", "system:origination")))
    assert (application.state, application.id) == (None, None)
    db_session.commit()
    assert db_session.scalars(select(StateTransition)).all() == []


@pytest.mark.parametrize("name", ["application", "loan"])  # a line's moves: tests/credit_lines
def test_every_legal_move_is_recorded_with_actor_and_reason(db_session, make_loan, name):
    machine = MACHINES[name]
    model = Application if name == "application" else Loan
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    for from_state, to_state in sorted(EXPECTED[name]):
        entity = _application(db_session) if name == "application" else make_loan()
        entity.state = from_state
        machine.transition(db_session, entity, to_state, actor="officer:li", reason=f"{from_state}->{to_state}",
                           at=at)
        db_session.commit()
        rows = machine.history(db_session, entity.id)
        assert [(r.from_state, r.to_state) for r in rows] == [(None, machine.initial), (from_state, to_state)]
        last = rows[-1]
        assert (last.entity_type, last.entity_id, last.actor, last.reason) == (
            name, entity.id, "officer:li", f"{from_state}->{to_state}")
        assert last.at.replace(tzinfo=UTC) == at
        assert db_session.get(model, entity.id).state == to_state


def test_a_loan_lifecycle_is_recorded_in_order(db_session, make_loan):
    loan = make_loan()
    for to_state in ("overdue", "active", "paid_off", "active", "written_off"):
        LOAN_STATES.transition(db_session, loan, to_state, actor="eod", reason=f"to {to_state}")
    db_session.commit()
    moves = db_session.execute(select(StateTransition.from_state, StateTransition.to_state)
                               .where(StateTransition.entity_type == "loan", StateTransition.entity_id == loan.id)
                               .order_by(StateTransition.id)).all()
    assert [tuple(m) for m in moves] == [(None, "active"), ("active", "overdue"), ("overdue", "active"),
                                         ("active", "paid_off"), ("paid_off", "active"), ("active", "written_off")]
    with pytest.raises(IllegalTransitionError):
        LOAN_STATES.transition(db_session, loan, "active", actor="eod")


def test_a_transition_needs_an_actor(db_session, make_loan):
    loan = make_loan()
    with pytest.raises(InvalidArgumentError) as info:
        LOAN_STATES.transition(db_session, loan, "overdue", actor=" ")
    assert info.value.field == "actor"
    assert loan.state == "active"


def test_a_statement_carrying_a_batch_is_built_once_per_shape_and_compiled_once():
    from sqlalchemy.dialects import postgresql

    from core.db.direct import _NOTHING, _with_inserts
    from core.states import _NEW_RECORDS

    def rows(n: int) -> list[dict[str, object]]:
        return [{"entity_type": "application", "entity_id": n, "from_state": None, "to_state": "draft",
                 "actor": "a", "at": datetime(2026, 3, 1, tzinfo=UTC), "reason": None}] * n

    dialect = postgresql.psycopg.dialect()
    first, first_values = _with_inserts(_NOTHING, {}, {_NEW_RECORDS: rows(1)}, dialect)
    again, again_values = _with_inserts(_NOTHING, {}, {_NEW_RECORDS: rows(3)}, dialect)
    assert again is first  # the rows of a table are one parameter, whatever their number
    assert json.loads(first_values["b0"]) == [{"entity_type": "application", "entity_id": 1, "from_state": None,
                                               "to_state": "draft", "actor": "a", "at": "2026-03-01T00:00:00+00:00",
                                               "reason": None}]
    assert [row["entity_id"] for row in json.loads(again_values["b0"])] == [3, 3, 3]
    assert first._generate_cache_key() is not None  # its compiled form is cached (a multi-row VALUES is not)
    assert "json_populate_recordset" in str(first.compile(dialect=dialect))
