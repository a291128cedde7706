"""A PostgreSQL ``LISTEN`` kept in a daemon thread: a connection of its own, and an owner told when the thread
starts listening, when notifications arrive, and when it stops listening.

The thread connects (autocommit, with TCP keepalives so that a peer that vanished without a word is noticed
in about a minute), runs ``LISTEN`` and calls the owner's :meth:`~NoticeOwner.listening`; then it waits on
two sockets, the connection's and a wake-up socket of its own, and calls :meth:`~NoticeOwner.notified`
whenever notifications arrived (those psycopg gathered while ``LISTEN`` ran included). When the connection
fails it calls :meth:`~NoticeOwner.lost` and connects again after a pause that doubles from
:data:`FIRST_RETRY_SECONDS` to :data:`LAST_RETRY_SECONDS`: a server that is down, or a database that was
dropped, costs one connection attempt every few seconds, and only the first failure of a run of them is
logged as a warning (the rest at debug level).

The thread holds its owner by a weak reference: when the owner is collected the thread is woken and ends.
:meth:`NoticeListener.stop` wakes it through its socket and waits a bounded time for it to close its
connection, so that a database can be dropped right after; in a process forked from the listener's it does
nothing (the thread stayed in the parent, whose wake-up socket the child shares). Every way out of the
thread tells the owner :meth:`~NoticeOwner.lost`, so a listener that died of an unexpected error never
leaves its owner believing it is still heard.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Protocol

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.1
LAST_RETRY_SECONDS = 10.0
#: how long :meth:`NoticeListener.stop` waits for the thread to close its connection
STOP_SECONDS = 5.0
#: seconds to give up connecting, and libpq's keepalives: a silent peer is found dead after 60 + 3 x 10 s
CONNECT_OPTIONS: Mapping[str, Any] = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 60,
                                      "keepalives_interval": 10, "keepalives_count": 3}


class NoticeOwner(Protocol):
    """What a :class:`NoticeListener` tells its owner, from its thread. Each call names the listener, so an
    owner that replaced it can tell a late call of the old one from its current one's."""

    def listening(self, listener: NoticeListener) -> None:
        """``LISTEN`` succeeded: from now on every notification will be heard."""

    def notified(self, listener: NoticeListener) -> None:
        """One or more notifications arrived."""

    def lost(self, listener: NoticeListener) -> None:
        """The connection failed or the listener stopped: notifications may go unheard."""


class NoticeListener:
    """``LISTEN channel`` on a connection made with ``connect_options`` (psycopg's ``connect`` keywords), in a
    daemon thread started by :meth:`start`, telling ``owner``."""

    def __init__(self, owner: NoticeOwner, connect_options: Mapping[str, Any], channel: str,
                 name: str = "notice-listener") -> None:
        self._owner = weakref.ref(owner)
        self._options = {**CONNECT_OPTIONS, **connect_options, "autocommit": True}
        self._listen = sql.SQL("LISTEN {}").format(sql.Identifier(channel))
        self._stopping = threading.Event()
        self._wake, self._waker = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._pid = os.getpid()
        weakref.finalize(owner, self.stop, 0)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, wait: float = STOP_SECONDS) -> None:
        """Ask the thread to close its connection and end; wait up to ``wait`` seconds for it.

        Does nothing in a process forked from the one that made the listener: the thread is not there, and
        the wake-up socket is the parent's."""
        if os.getpid() != self._pid:
            return
        self._stopping.set()
        try:
            self._waker.send(b"\0")
        except OSError:  # the thread has ended and closed its sockets
            pass
        if wait and self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def is_alive(self) -> bool:
        """True while the thread runs (connected, or waiting to connect again)."""
        return self._thread.is_alive()

    def _tell(self, what: str) -> bool:
        """Call the owner's ``what``; False when the owner is gone."""
        owner = self._owner()
        if owner is None:
            return False
        getattr(owner, what)(self)
        return True

    def _run(self) -> None:
        try:
            self._keep_listening()
        except Exception:
            log.exception("the listener of %s failed; it has stopped", self._options.get("dbname"))
        finally:
            self._tell("lost")
            self._wake.close()
            self._waker.close()

    def _keep_listening(self) -> None:
        pause, failures = FIRST_RETRY_SECONDS, 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(**self._options) as connection:
                    connection.execute(self._listen)
                    if not self._tell("listening"):
                        return
                    if failures:
                        log.info("listening on %s again", self._options.get("dbname"))
                    pause, failures = FIRST_RETRY_SECONDS, 0
                    self._hear(connection)
            except psycopg.Error as error:
                if not self._tell("lost"):
                    return
                (log.debug if failures else log.warning)(
                    "listening on %s failed (%s); trying again every %.1f-%.0f s", self._options.get("dbname"),
                    str(error).strip(), pause, LAST_RETRY_SECONDS)
                failures += 1
                self._stopping.wait(pause)
                pause = min(2 * pause, LAST_RETRY_SECONDS)

    def _hear(self, connection: psycopg.Connection[Any]) -> None:
        """Tell the owner of each batch of notifications until :meth:`stop` (connection errors propagate)."""
        while not self._stopping.is_set():
            if list(connection.notifies(timeout=0)) and not self._tell("notified"):
                return
            select.select([connection.fileno(), self._wake.fileno()], [], [])
