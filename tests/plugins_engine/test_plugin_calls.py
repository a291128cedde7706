"""Calling a named plugin: the answer, the record, and the containment of faults and timeouts."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, String, event, select
from sqlalchemy.orm import Session

from core.db.base import Base
from core.plugins import runner as plugin_runner
from core.plugins.hookspecs import hookimpl
from core.plugins.manager import PluginCall, PluginManager, PluginSettings
from core.plugins.types import (
    ApplicantProfile,
    ApplicationFacts,
    NoSessionError,
    PluginCancelledError,
    PluginFailure,
    PluginNotFoundError,
    ReasonCode,
    ScoreResult,
)


class ScratchRow(Base):
    """A row a test plugin writes, to show that a failed call leaves nothing behind."""

    __tablename__ = "test_plugin_scratch"
    id = Column(Integer, primary_key=True)
    note = Column(String(40))


APPLICATION = ApplicationFacts(product_code="CASH", amount=Decimal("5000"), term_months=12)
APPLICANT = ApplicantProfile(age=30, monthly_income=Decimal("8000"))


def fixed_score(score: int) -> ScoreResult:
    return ScoreResult(score=score, grade="B", model_version="fixed-1",
                       reason_codes=(ReasonCode("R1", "age", "young", Decimal(5)),))


class FixedScorer:
    def __init__(self, score: int) -> None:
        self.score = score

    @hookimpl
    def score_application(self, context, application):
        with context.db() as session:
            session.add(ScratchRow(note=f"scored {self.score}"))
        return fixed_score(self.score)


class RaisingScorer:
    @hookimpl
    def score_application(self, context):
        with context.db() as session:
            session.add(ScratchRow(note="half-written"))
            session.flush()
        raise RuntimeError("model file corrupt")


class SlowScorer:
    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def score_application(self, context):
        self.release.wait(5)
        with context.db() as session:
            session.add(ScratchRow(note="too late"))
        return fixed_score(1)


@pytest.fixture
def manager() -> PluginManager:
    manager = PluginManager(PluginSettings(load_entrypoints=False, default_timeout=2))
    manager.load(builtins=())
    return manager


def score(manager: PluginManager, name: str, session: Session | None, **kw):
    return manager.call(name, "score_application", session=session, subject="application:1",
                        application=APPLICATION, applicant=APPLICANT, bureau_report=None, **kw)


def test_two_scorers_installed_side_by_side__each_product_gets_the_one_it_names(manager, db_session):
    manager.register(FixedScorer(700), "strict")
    manager.register(FixedScorer(550), "lenient")
    assert score(manager, "strict", db_session).score == 700
    assert score(manager, "lenient", db_session).score == 550
    calls = db_session.scalars(select(PluginCall).order_by(PluginCall.id)).all()
    assert [(c.plugin, c.hook, c.outcome, c.subject) for c in calls] == [
        ("strict", "score_application", "ok", "application:1"), ("lenient", "score_application", "ok", "application:1")]
    assert all(c.duration_ms >= 0 for c in calls)
    assert db_session.scalars(select(ScratchRow.note)).all() == ["scored 700", "scored 550"]


def test_a_scorer_that_raises__its_writes_are_rolled_back_and_the_error_recorded(manager, db_session):
    manager.register(RaisingScorer(), "broken")
    with pytest.raises(PluginFailure) as failure:
        score(manager, "broken", db_session)
    assert failure.value.outcome == "error" and failure.value.retryable
    assert isinstance(failure.value.cause, RuntimeError)
    db_session.commit()  # the caller commits its reaction (manual review) together with the record
    assert db_session.scalars(select(ScratchRow)).all() == []
    call = db_session.scalars(select(PluginCall)).one()
    assert (call.plugin, call.outcome) == ("broken", "error")
    assert "model file corrupt" in call.error


def test_a_scorer_that_hangs__times_out_and_cannot_write_afterwards(manager, db_session):
    slow = SlowScorer()
    manager.register(slow, "slow")
    with pytest.raises(PluginFailure) as failure:
        score(manager, "slow", db_session, timeout=0.2)
    assert failure.value.outcome == "timeout"
    slow.release.set()
    db_session.commit()
    assert db_session.scalars(select(ScratchRow)).all() == []
    call = db_session.scalars(select(PluginCall)).one()
    assert call.outcome == "timeout" and "0.2 s" in call.error


class SpinningScorer:
    """Writes a row, then loops in Python without ever looking at ``context.cancelled``; ``inside_db`` keeps
    the loop inside the ``db()`` block."""

    def __init__(self, *, inside_db: bool) -> None:
        self.inside_db = inside_db
        self.stopped = threading.Event()
        self.spins = 0

    @hookimpl
    def score_application(self, context):
        try:
            with context.db() as session:
                session.add(ScratchRow(note="before the spin"))
                session.flush()
                if self.inside_db:
                    self._spin()
            self._spin()
        finally:
            self.stopped.set()

    def _spin(self) -> None:
        while True:
            self.spins += 1


@pytest.mark.parametrize("inside_db", [False, True], ids=["between-db-blocks", "inside-a-db-block"])
def test_a_call_that_times_out_is_stopped_and_its_rows_rolled_back(manager, db_session, inside_db):
    db_session.add(ScratchRow(note="the caller's own"))
    spinner = SpinningScorer(inside_db=inside_db)
    manager.register(spinner, "spinner")
    with pytest.raises(PluginFailure) as failure:
        score(manager, "spinner", db_session, timeout=0.3)
    assert failure.value.outcome == "timeout"
    assert spinner.stopped.wait(2), "the timed-out call is still running"
    spins = spinner.spins
    threading.Event().wait(0.1)
    assert spinner.spins == spins
    db_session.commit()
    assert db_session.scalars(select(ScratchRow.note)).all() == ["the caller's own"]
    assert db_session.scalars(select(PluginCall.outcome)).all() == ["timeout"]


def test_the_worker_of_a_stopped_call_serves_the_next_calls(manager, db_session):
    manager.register(SpinningScorer(inside_db=False), "spinner")
    manager.register(FixedScorer(640), "fixed")
    with pytest.raises(PluginFailure):
        score(manager, "spinner", db_session, timeout=0.2)
    assert [score(manager, "fixed", db_session).score for _ in range(50)] == [640] * 50
    workers = [t for t in threading.enumerate() if t.name == "loanfactory-plugin-call"]
    assert len(workers) <= plugin_runner.IDLE_WORKERS


def test_calling_a_plugin_that_is_not_installed_names_it(manager):
    with pytest.raises(PluginNotFoundError, match="'nobody' is not installed"):
        score(manager, "nobody", None)


def test_a_plugin_asking_for_the_database_without_a_session_is_refused(manager):
    manager.register(FixedScorer(600), "needs_db")
    with pytest.raises(PluginFailure) as failure:
        score(manager, "needs_db", None)
    assert failure.value.outcome == "refused" and isinstance(failure.value.cause, NoSessionError)


def test_a_successful_call_commits_nothing_the_caller_later_rolls_back(manager, db_session):
    """The plugin's SAVEPOINT is released into the caller's transaction, even when the plugin writes first
    (pysqlite would otherwise make that SAVEPOINT the outermost transaction and commit on release)."""
    manager.register(FixedScorer(640), "first_writer")
    assert score(manager, "first_writer", db_session).score == 640
    db_session.rollback()
    assert db_session.scalars(select(ScratchRow)).all() == []
    assert db_session.scalars(select(PluginCall)).all() == []


def test_the_callers_earlier_work_survives_a_failed_plugin_call(manager, db_session):
    db_session.add(ScratchRow(note="application row"))
    db_session.flush()
    manager.register(RaisingScorer(), "broken")
    with pytest.raises(PluginFailure):
        score(manager, "broken", db_session)
    db_session.commit()
    assert db_session.scalars(select(ScratchRow.note)).all() == ["application row"]


class NoDatabaseScorer:
    @hookimpl
    def score_application(self, context):
        return fixed_score(710)


def test_a_call_that_never_touches_the_database_opens_no_savepoint_and_leaves_the_callers_work_pending(
        manager, db_session):
    db_session.add(ScratchRow(note="the caller's own"))
    sent: list[str] = []
    event.listen(db_session.get_bind(), "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_rest: sent.append(statement))
    manager.register(NoDatabaseScorer(), "pure")
    assert score(manager, "pure", db_session).score == 710
    # only the call's own record is written at once; the caller's pending row waits for its flush
    assert [statement.split(" (")[0] for statement in sent if not statement.startswith("BEGIN")] == [
        "INSERT INTO plugin_calls"]
    db_session.commit()
    assert not any("SAVEPOINT" in statement for statement in sent)
    assert db_session.scalars(select(ScratchRow.note)).all() == ["the caller's own"]
    assert db_session.scalars(select(PluginCall.plugin)).all() == ["pure"]


class KeepingScorer:
    """Keeps its context past the call, as a plugin must not."""

    def __init__(self) -> None:
        self.context = None

    @hookimpl
    def score_application(self, context):
        self.context = context
        return fixed_score(600)


def test_a_plugin_that_keeps_its_context_cannot_reach_the_database_after_its_call(manager, db_session):
    keeper = KeepingScorer()
    manager.register(keeper, "keeper")
    score(manager, "keeper", db_session)
    with pytest.raises(PluginCancelledError, match="the call is over"), keeper.context.db():
        pass


def test_register_plugin_fixture_adds_a_plugin_for_one_test(plugin_manager, register_plugin):
    register_plugin(NoDatabaseScorer(), "one_test_only")
    assert score(plugin_manager, "one_test_only", None).score == 710


class NoAnswer:
    @hookimpl
    def score_application(self, context):
        return None


def test_a_one_answer_hook_that_returns_nothing_is_a_failure(manager):
    manager.register(NoAnswer(), "silent")
    with pytest.raises(PluginFailure, match="returned nothing"):
        score(manager, "silent", None)
