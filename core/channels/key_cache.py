"""A per-process cache of the channel keys' rows and the products' published version ids, kept true by
PostgreSQL's ``LISTEN``/``NOTIFY``.

Every API call authenticates its key, and most name a product, so without a cache each reads the key's row
and the product's published version id (:mod:`core.channels.keys`). A :class:`KeyCache` keeps, for
one engine in this process, the row snapshot of each key prefix seen and the published version id of each
product code (``None``, none published, included), so that a call whose key and product are cached sends no
statement at all; the caller still checks the key's hash and whether it is revoked on every call.

Every change to ``api_clients`` or ``product_versions`` (insert, update, delete, truncate) fires a statement
trigger (:func:`watch`, installed by ``create_all`` and by revision 0009) that notifies
:data:`CHANGES_CHANNEL`; PostgreSQL delivers the notification when the transaction commits, so only
committed changes reach listeners. Each cache listens in a thread of its own (:mod:`core.db.listener`,
started by the first lookup that misses, in each process: a forked child drops its parent's) and empties
itself on any notification, within milliseconds of the commit. Changes made through this process's ORM
empty every cache of the process at flush already, so the process that revokes a key or pauses a product
sees the change at once.

The cache answers only while its listener listens: it is emptied when ``LISTEN`` succeeds (anything kept
before may have missed a notification) and when the connection is lost, and keeps nothing until the
listener is back. A generation counter, raised by each emptying, closes the race of a request that reads a
row, sees a revoke commit and its notification empty the cache, and then keeps its stale row: the request
takes the generation before it reads and keeps the row only if the generation is unchanged
(:meth:`KeyCache.keep`). Entries also expire after :data:`DEFAULT_SECONDS`, in case a notification is lost.

SQLite has no ``NOTIFY``: an app on it gets no cache and reads the rows on every call.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any, Final

from sqlalchemy import DDL, Table, event
from sqlalchemy.engine import Engine

from core.db.listener import NoticeListener

#: the channel the tables' triggers notify (the payload is the table's name)
CHANGES_CHANNEL = "loanfactory_api_auth"
DEFAULT_SECONDS = 60.0
#: entries of each kind kept at most; beyond, that kind is emptied (only product codes callers make up grow it)
MAX_ENTRIES = 1024
NOTIFY_FUNCTION = "loanfactory_notify_api_auth"
_CREATE_FUNCTION = f"""CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANGES_CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END $$"""


class Missing:
    """The type of :data:`MISSING`."""


#: what :meth:`KeyCache.published_id` answers for a product code it does not hold
MISSING: Final = Missing()


def trigger_name(table_name: str) -> str:
    """The name of the notifying trigger on ``table_name``."""
    return f"{table_name}_notify_api_auth"


def notify_statements(table_name: str) -> tuple[str, str]:
    """The notifying function and ``table_name``'s trigger (both replaced when they exist)."""
    return _CREATE_FUNCTION, (f"CREATE OR REPLACE TRIGGER {trigger_name(table_name)} "
                              f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table_name} "
                              f"FOR EACH STATEMENT EXECUTE FUNCTION {NOTIFY_FUNCTION}()")


def watch(model: type[Any]) -> None:
    """Empty the key caches whenever a row of ``model``'s table changes.

    On PostgreSQL ``create_all`` installs the notifying trigger on the table (``CREATE OR REPLACE``: revision
    0001 runs the tables' ``after_create`` DDL too, and 0009 installs it on databases made before). Flushing
    a change of a ``model`` row through the ORM empties every cache of this process at once.
    """
    table: Table = model.__table__
    ddl = DDL(";\n".join(notify_statements(table.name)))  # type: ignore[no-untyped-call]
    event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))
    for change in ("after_insert", "after_update", "after_delete"):
        event.listen(model, change, _changed_here)


_CACHES: weakref.WeakSet[KeyCache] = weakref.WeakSet()
_CACHES_LOCK = threading.Lock()


def _changed_here(_mapper: Any, _connection: Any, _target: Any) -> None:
    with _CACHES_LOCK:
        caches = list(_CACHES)
    for cache in caches:
        cache.forget()


class KeyCache:
    """The key rows and published version ids read through ``engine``, in this process.

    Lookups (:meth:`key_row`, :meth:`published_id`) take no lock: a request that finds an entry an instant
    before it is emptied is one that read the database an instant before the change committed.
    """

    def __init__(self, engine: Engine, seconds: float = DEFAULT_SECONDS) -> None:
        self._connect_options = engine.dialect.create_connect_args(engine.url)[1]
        self._seconds = seconds
        self._keys: dict[str, tuple[Any, float]] = {}
        self._published: dict[str, tuple[int | None, float]] = {}
        self._generation = 0
        self._started()
        event.listen(engine, "engine_disposed", self._disposed)
        with _CACHES_LOCK:
            _CACHES.add(self)

    def _started(self) -> None:
        """The state of a cache with no listener (new, or in a child just forked), holding nothing."""
        self._lock = threading.Lock()
        self._generation += 1
        self._caching = False
        self._listener: NoticeListener | None = None
        self._keys.clear()
        self._published.clear()

    @property
    def caching(self) -> bool:
        """True while the listener listens, so that the cache keeps what it is given."""
        return self._caching

    def key_row(self, prefix: str) -> Any | None:
        """The row snapshot kept for the key ``prefix``, or ``None``."""
        entry = self._keys.get(prefix)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def published_id(self, code: str) -> int | Missing | None:
        """The published version id kept for the product ``code`` (``None``: none is), or :data:`MISSING`."""
        entry = self._published.get(code)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else MISSING

    def generation(self) -> int | None:
        """The generation to pass to :meth:`keep`, taken before reading; ``None`` while not caching.

        Starts this process's listener if it has none: the first read of each process starts it.
        """
        if self._listener is None:
            self._listen()
        return self._generation if self._caching else None

    def keep(self, generation: int | None, prefix: str, row: Any, code: str | None = None,
             version_id: int | None = None) -> None:
        """Keep ``row`` for ``prefix`` (and ``version_id`` for ``code`` when given), read at ``generation``;
        nothing is kept if the cache was emptied since."""
        expires = time.monotonic() + self._seconds
        with self._lock:
            if generation is None or generation != self._generation or not self._caching:
                return
            _put(self._keys, prefix, (row, expires))
            if code is not None:
                _put(self._published, code, (version_id, expires))

    def forget(self) -> None:
        """Empty the cache and raise its generation."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        self._generation += 1
        self._keys.clear()
        self._published.clear()

    def _listen(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = NoticeListener(self, self._connect_options, CHANGES_CHANNEL,
                                                name=f"key-cache-{self._connect_options.get('dbname')}")
                self._listener.start()

    def listening(self, listener: NoticeListener) -> None:
        """From the listener: it listens; whatever was kept before may have missed a change."""
        with self._lock:
            if listener is self._listener:
                self._forget()
                self._caching = True

    def notified(self, _listener: NoticeListener) -> None:
        """From the listener: a watched table changed."""
        self.forget()

    def lost(self, listener: NoticeListener) -> None:
        """From the listener: changes may go unheard until it listens again."""
        with self._lock:
            if listener is self._listener:
                self._caching = False
                self._forget()

    def _disposed(self, _engine: Engine) -> None:
        """The engine was disposed: stop listening (a later read starts a new listener)."""
        with self._lock:
            listener, self._listener = self._listener, None
            self._caching = False
            self._forget()
        if listener is not None:
            listener.stop()


def _put(entries: dict[str, Any], key: str, entry: Any) -> None:
    if len(entries) >= MAX_ENTRIES:
        entries.clear()
    entries[key] = entry


def _forget_listeners_after_fork() -> None:
    """In a child just forked: no cache has a listener here (the threads stayed in the parent)."""
    global _CACHES_LOCK
    _CACHES_LOCK = threading.Lock()
    for cache in list(_CACHES):
        cache._started()


os.register_at_fork(after_in_child=_forget_listeners_after_fork)
