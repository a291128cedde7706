"""Plugin calls run on reusable worker threads, with a timeout that stops the call.

:func:`run` hands a call to an idle worker thread (a new one when none is idle; at most
:data:`IDLE_WORKERS` wait for work between calls, so a burst leaves no crowd of threads behind) and waits
at most ``timeout`` seconds. Reusing threads spares each call a thread start.

A call that runs out of time is stopped, not abandoned: :func:`run` first raises :class:`CallStopped` inside
the worker thread (``PyThreadState_SetAsyncExc``), which interrupts Python code at its next bytecode, then
calls the ``on_timeout`` callback (the plugin manager cancels the call's :class:`~core.plugins.types.PluginContext`,
which waits for a database block in progress to end and refuses every later one). Code blocked inside a C
call (a ``sleep``, a socket read) is stopped when the call returns; until then it cannot touch the
database and whatever it returns is discarded. The stop is aimed only while the worker runs the call
(both sides hold the job's lock), and a stop that arrives as the call ends is taken by the worker before
it goes back to the pool, so a worker always returns clean. (Never "clear" a pending exception by passing
``NULL``: on CPython 3.11 that leaves the interpreter's asynchronous-exception flag raised for good.)
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
from collections.abc import Callable
from typing import Any

#: idle worker threads kept for the next calls
IDLE_WORKERS = 16


class CallStopped(BaseException):
    """Raised inside a plugin call that ran out of time, to stop it (a ``BaseException``, so a plugin's
    ``except Exception`` does not swallow it)."""


class _Job:
    """One call: the function, its outcome, and whether a worker is running it."""

    __slots__ = ("context", "done", "error", "func", "lock", "running", "stop_aimed", "thread_id", "value")

    def __init__(self, func: Callable[[], Any]) -> None:
        self.func = func
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.running = False
        self.stop_aimed = False
        self.thread_id: int | None = None
        self.value: Any = None
        self.error: BaseException | None = None

    def stop(self) -> bool:
        """Raise :class:`CallStopped` in the worker if it is still running this job; whether it was."""
        with self.lock:
            if not self.running or self.thread_id is None:
                return False
            _async_raise(self.thread_id, CallStopped)
            self.stop_aimed = True
            return True


class _Worker:
    """A thread that runs jobs one after the other and parks itself in the idle list in between."""

    def __init__(self) -> None:
        self.wakeup = threading.Condition(threading.Lock())
        self.job: _Job | None = None
        self.thread = threading.Thread(target=self._loop, name="loanfactory-plugin-call", daemon=True)

    def give(self, job: _Job) -> None:
        with self.wakeup:
            self.job = job
            self.wakeup.notify()

    def _loop(self) -> None:
        while True:
            with self.wakeup:
                while self.job is None:
                    self.wakeup.wait()
                job, self.job = self.job, None
            try:
                _execute(job)
            except CallStopped as stopped:  # landed in _execute's own handler, after the plugin
                job.error = stopped
            while True:
                try:
                    _settle(job)
                    break
                except CallStopped:
                    continue
            job.done.set()
            if not _park(self):
                return


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _park(worker: _Worker) -> bool:
    """Put ``worker`` back in the idle list; ``False`` when enough are idle already (it then ends)."""
    with _idle_lock:
        if len(_idle) >= IDLE_WORKERS:
            return False
        _idle.append(worker)
        return True


def _execute(job: _Job) -> None:
    """Run ``job`` in this worker and record its outcome."""
    try:
        with job.lock:
            job.thread_id = threading.get_ident()
            job.running = True
        job.value = job.context.run(job.func)
    except BaseException as error:  # contained: any plugin fault becomes a recorded PluginFailure
        job.error = error


def _settle(job: _Job) -> None:
    """Mark ``job`` finished under its lock (no stop can be aimed any more) and, when one was aimed, take
    it here: a pending asynchronous exception is raised at the next Python call, so the calls below
    receive it instead of the worker's loop. Callers retry on :class:`CallStopped` until this returns."""
    with job.lock:
        job.running = False
    if job.stop_aimed:
        for _ in range(3):
            _checkpoint()


def _checkpoint() -> None:
    """A Python call: the interpreter raises a pending asynchronous exception on entering it."""


def _async_raise(thread_id: int, exception: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception))


def run(func: Callable[[], Any], timeout: float, on_timeout: Callable[[], None]) -> tuple[str, Any]:
    """Run ``func`` on a worker thread in a copy of the caller's context and wait at most ``timeout`` s.

    Returns:
        ``("ok", value)``, ``("error", exception)`` for anything ``func`` raised, or ``("timeout", timeout)``
        after the call was stopped and ``on_timeout`` called.
    """
    job = _Job(func)
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is None:
        worker = _Worker()
        worker.give(job)
        worker.thread.start()
    else:
        worker.give(job)
    if job.done.wait(timeout):
        return ("ok", job.value) if job.error is None else ("error", job.error)
    job.stop()
    on_timeout()
    return "timeout", timeout
