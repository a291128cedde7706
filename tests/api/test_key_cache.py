"""The key cache: a warm quote sends no statement, and every committed change elsewhere reaches it by NOTIFY.

"Elsewhere" is another process: its changes reach this one only through PostgreSQL's notification. The
tests make them with plain SQL on an engine of their own, or through the ORM with this process's own
emptying at flush switched off (:func:`as_if_elsewhere`). Every wait is bounded.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine

from api.auth import key_cache
from core.channels import key_cache as key_cache_module
from core.channels.key_cache import KeyCache
from core.channels.keys import authenticate_for_product
from core.db.base import make_engine
from loanfactory.database import get_db
from tests.api.conftest import Channel, make_api_app, new_key, publish_sample, sample
from tests.conftest import PG_ADMIN_URL

QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"
BODY = {"amount": "10000.00", "term": 12, "method": "equal_installment"}
WAIT_SECONDS = 5.0


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {seconds} s")
        time.sleep(0.01)


@contextmanager
def counted(engine: Engine) -> Iterator[dict[str, int]]:
    """The statements sent (and those reading a key), and the connections checked out through ``engine``."""
    seen = {"statements": 0, "key_reads": 0, "checkouts": 0}

    def statement(_connection: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen["statements"] += 1
        seen["key_reads"] += "FROM api_clients" in sql

    def checkout(*_args: Any) -> None:
        seen["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def quote(channel: Channel) -> int:
    return channel.post(QUOTE, BODY, idempotency_key=None).status_code


def cache_of(app: Flask) -> KeyCache | None:
    with app.app_context():
        return key_cache()


def warm(app: Flask, channel: Channel) -> KeyCache:
    """The app's cache, listening and holding the channel's key and CONSUMER_INSTALLMENT."""
    assert quote(channel) == 200  # the first read starts the listener
    cache = cache_of(app)
    assert cache is not None
    wait_until(lambda: cache.caching)
    assert quote(channel) == 200  # read while listening: kept
    return cache


def on_postgres(test: Callable[..., None]) -> Callable[..., None]:
    """Run ``test`` with ``db_app`` and ``db_channel`` on PostgreSQL only (SQLite has no cache)."""
    return pytest.mark.postgres(pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)(test))


@pytest.fixture
def pg_app(db_app: Flask) -> Flask:
    """The app on PostgreSQL with CONSUMER_INSTALLMENT published."""
    publish_sample(db_app, "consumer_installment")
    return db_app


@pytest.fixture
def elsewhere(postgres_url: str) -> Iterator[Engine]:
    """An engine of another process on the same database."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def as_if_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on this process's ORM changes do not empty its caches at flush: only their notifications do."""
    monkeypatch.setattr(key_cache_module, "_CACHES", weakref.WeakSet())


@on_postgres
def test_a_quote_on_a_warm_cache_sends_no_statement_and_checks_out_no_connection(pg_app, db_channel):
    engine = get_db(pg_app).engine
    warm(pg_app, db_channel)
    with counted(engine) as seen:
        assert quote(db_channel) == 200
        assert db_channel.get("/api/v1/products/CONSUMER_INSTALLMENT").status_code == 200
    assert seen == {"statements": 0, "key_reads": 0, "checkouts": 0}


@on_postgres
def test_a_key_revoked_in_another_process_is_refused_once_its_notification_arrives(pg_app, db_channel, elsewhere):
    warm(pg_app, db_channel)
    with elsewhere.begin() as connection:
        connection.execute(text("UPDATE api_clients SET active = false"))
    wait_until(lambda: quote(db_channel) == 401)
    response = db_channel.post(QUOTE, BODY, idempotency_key=None)
    assert "revoked" in response.get_json()["detail"]


@on_postgres
def test_a_scope_narrowed_elsewhere_is_seen(pg_app, db_channel, elsewhere):
    warm(pg_app, db_channel)
    with elsewhere.begin() as connection:
        connection.execute(text("""UPDATE api_clients SET scopes = '["SME_BUSINESS"]'"""))
    wait_until(lambda: quote(db_channel) == 403)


@on_postgres
def test_a_product_paused_elsewhere_is_refused_as_paused_and_its_next_version_is_seen(pg_app, db_channel, monkeypatch):
    from core.products.models import ProductVersion
    from core.products.versions import create_draft, pause, publish, submit

    cache = warm(pg_app, db_channel)
    as_if_elsewhere(monkeypatch)
    with pg_app.app_context():
        session = get_db(pg_app).session()
        first = session.scalars(select(ProductVersion)).one()
        pause(session, first, actor="checker", reason="rates")
        session.commit()
    wait_until(lambda: quote(db_channel) == 409)  # product-paused
    assert cache.published_id("CONSUMER_INSTALLMENT") is None  # "none published" is kept too
    with pg_app.app_context():
        session = get_db(pg_app).session()
        second = create_draft(session, sample("consumer_installment"), actor="maker")
        submit(session, second, actor="maker")
        publish(session, second, actor="checker")
        session.commit()
        second_number = second.version
    wait_until(lambda: quote(db_channel) == 200)
    assert db_channel.post(QUOTE, BODY, idempotency_key=None).get_json()["product_version"] == second_number == 2


@on_postgres
def test_this_process_sees_its_own_revocation_at_once(pg_app, db_channel):
    from core.channels.keys import ApiClient, revoke

    warm(pg_app, db_channel)
    with pg_app.app_context():
        session = get_db(pg_app).session()
        revoke(session.scalars(select(ApiClient)).one())
        session.commit()
    assert quote(db_channel) == 401  # no wait: the flush emptied the cache


@on_postgres
def test_a_wrong_secret_with_a_cached_prefix_is_refused_without_a_statement(pg_app, db_channel):
    cache = warm(pg_app, db_channel)
    prefix = db_channel.key.split("_")[1]
    assert cache.key_row(prefix) is not None
    wrong = Channel(db_channel.client, db_channel.key[:-1] + ("B" if db_channel.key.endswith("A") else "A"))
    with counted(get_db(pg_app).engine) as seen:
        response = wrong.post(QUOTE, BODY, idempotency_key=None)
    assert response.status_code == 401 and "unknown" in response.get_json()["detail"]
    assert seen["statements"] == 0


@on_postgres
def test_a_row_read_before_a_revocation_whose_notification_came_first_is_not_kept(pg_app, db_channel, elsewhere):
    """The race: the request reads the key, the revocation commits and its notification empties the cache, and
    only then would the request keep its (stale) row. The generation taken before the read refuses it."""
    cache = warm(pg_app, db_channel)
    cache.forget()  # the key is read again below
    prefix = db_channel.key.split("_")[1]

    class RevokedRightAfterTheRead:
        """A connection whose read is followed, before it returns, by a revocation heard by the cache."""

        def __init__(self, connection: Any) -> None:
            self.connection = connection

        def execute(self, *args: Any) -> Any:
            result = self.connection.execute(*args)
            rows = result.all()
            before = cache.generation()
            with elsewhere.begin() as other:
                other.execute(text("UPDATE api_clients SET active = false"))
            wait_until(lambda: cache.generation() != before)
            return _Rows(rows)

    with pg_app.test_request_context():
        session = get_db(pg_app).session()
        client, _ = authenticate_for_product(lambda: RevokedRightAfterTheRead(session.connection()), db_channel.key,
                                             "CONSUMER_INSTALLMENT", cache)
        session.rollback()
    assert client.channel == "partner-app"  # it read the row before the revocation committed
    assert cache.key_row(prefix) is None
    assert quote(db_channel) == 401


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def one_or_none(self) -> Any:
        return self.rows[0] if self.rows else None


def test_an_app_on_sqlite_has_no_cache_and_reads_the_key_every_time(api_app, channel, consumer):
    assert cache_of(api_app) is None
    assert quote(channel) == 200  # the offer's document is read once
    with counted(get_db(api_app).engine) as seen:
        for _ in range(3):
            assert quote(channel) == 200
    assert seen["key_reads"] == 3


@pytest.mark.postgres
def test_the_switch_turns_the_cache_off(postgres_url):
    app = make_api_app(postgres_url, API_KEY_CACHE=False)
    try:
        publish_sample(app, "consumer_installment")
        channel = Channel(app.test_client(), new_key(app))
        assert quote(channel) == 200  # the offer's document is read once
        with counted(get_db(app).engine) as seen:
            for _ in range(3):
                assert quote(channel) == 200
        assert cache_of(app) is None
        assert seen["statements"] == seen["key_reads"] == 3
        assert _listener_pids(get_db(app).engine.url.database) == []
    finally:
        get_db(app).engine.dispose()


def _listener_pids(database: str) -> list[int]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND query LIKE 'LISTEN%'"),
                                  {"d": database}).scalars().all()
    admin.dispose()
    return list(pids)


def _run_as_admin(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


@on_postgres
def test_a_lost_listener_turns_the_cache_off_until_it_listens_again(pg_app, db_channel):
    engine = get_db(pg_app).engine
    database = engine.url.database
    cache = warm(pg_app, db_channel)
    [listener] = _listener_pids(database)
    try:
        _run_as_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')  # it cannot come back yet
        _run_as_admin(f"SELECT pg_terminate_backend({listener})")
        wait_until(lambda: not cache.caching)
        with counted(engine) as seen:  # read from the database, as without a cache (the pool's connection)
            assert quote(db_channel) == 200
            assert quote(db_channel) == 200
        assert seen["key_reads"] == 2
    finally:
        _run_as_admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    wait_until(lambda: cache.caching, seconds=3 * WAIT_SECONDS)  # the retries wait up to 10 s between them
    assert _listener_pids(database) not in ([], [listener])
    assert quote(db_channel) == 200
    with counted(engine) as seen:
        assert quote(db_channel) == 200
    assert seen["statements"] == 0


@on_postgres
def test_disposing_the_engine_closes_the_listener_connection_before_it_returns(pg_app, db_channel):
    engine = get_db(pg_app).engine
    cache = warm(pg_app, db_channel)
    assert len(_listener_pids(engine.url.database)) == 1
    engine.dispose()
    assert _listener_pids(engine.url.database) == []
    assert not cache.caching and cache.key_row(db_channel.key.split("_")[1]) is None
    assert quote(db_channel) == 200  # a later read listens again
    wait_until(lambda: cache.caching)


@on_postgres
def test_a_forked_child_starts_with_an_empty_cache_and_leaves_its_parents_listener_alone(pg_app, db_channel):
    cache = warm(pg_app, db_channel)
    listener = cache._listener
    assert listener is not None
    child = os.fork()
    if child == 0:  # the child: nothing kept, no listener; stopping the inherited one must not touch the parent's
        listener.stop()
        os._exit(0 if not cache.caching and cache._listener is None
                 and cache.key_row(db_channel.key.split("_")[1]) is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == 0
    assert listener.is_alive() and cache.caching
    with counted(get_db(pg_app).engine) as seen:
        assert quote(db_channel) == 200
    assert seen["statements"] == 0
