"""Logs: one line of JSON per record, each with the request id of the API call or task it belongs to.

Every HTTP request gets an id: the caller's ``X-Request-ID`` when it is a plain token of at most 64
characters (a load balancer's), else a new one; the response carries it back in ``X-Request-ID``. The id
rides along in the headers of every Celery task sent while the request runs (``request_id``), and the task's
log lines carry it, so a webhook delivery or an end-of-day partition can be traced to the call that caused
it. Each request also writes one access line (``loanfactory.access``: method, path, route, status,
duration in ms) at INFO.

Settings: ``LOG_LEVEL`` (default ``INFO``), ``LOG_FORMAT`` (``json``, the default, or ``text``) and
``LOG_CONFIGURE`` (default true; false leaves the process's logging to whoever set it up, as the test suite
does). Celery workers log the same way (:func:`configure_logging` from ``setup_logging``).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("loanfactory_request_id", default=None)
HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HANDLER_NAME = "loanfactory"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

access = logging.getLogger("loanfactory.access")
_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _factory(*args, **kwargs)
    record.request_id = REQUEST_ID.get()
    return record


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> logging.Handler:
    """Send the process's log records to ``stream`` (default stderr) at ``level``, as JSON or text; once per
    process (a second call replaces the first's handler)."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT: {fmt!r} is neither json nor text")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
                         if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def new_request_id(offered: str | None) -> str:
    """``offered`` when it is a plain token of at most 64 characters, else a fresh id."""
    return offered if offered and _TOKEN.match(offered) else uuid.uuid4().hex


def _begin() -> None:
    g.request_id = new_request_id(request.headers.get(HEADER))
    g.request_token = REQUEST_ID.set(g.request_id)
    g.request_started = time.perf_counter()


def _end(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[HEADER] = rid
        rule = request.url_rule.rule if request.url_rule is not None else None
        access.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path, "route": rule,
                           "status": response.status_code,
                           "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2)})
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


def _publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    rid = REQUEST_ID.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


def _task_started(task: Any = None, **_: Any) -> None:
    rid = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if rid is None and task is not None:
        rid = (getattr(task.request, "headers", None) or {}).get(TASK_HEADER)
    task.request.loanfactory_token = REQUEST_ID.set(rid or REQUEST_ID.get())


def _task_ended(task: Any = None, **_: Any) -> None:
    token = getattr(task.request, "loanfactory_token", None) if task is not None else None
    if token is not None:
        REQUEST_ID.reset(token)


def _worker_logging(loglevel: Any = None, **_: Any) -> None:
    configure_logging(logging.getLevelName(loglevel) if isinstance(loglevel, int) else str(loglevel or "INFO"))


def init_app(app: Flask) -> None:
    """Request ids and the access line on ``app``; the process's logging unless ``LOG_CONFIGURE`` is off."""
    app.config.setdefault("LOG_LEVEL", "INFO")
    app.config.setdefault("LOG_FORMAT", "json")
    app.config.setdefault("LOG_CONFIGURE", not app.config.get("TESTING"))
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    if app.config["LOG_CONFIGURE"]:
        configure_logging(str(app.config["LOG_LEVEL"]), str(app.config["LOG_FORMAT"]))
    else:
        logging.getLogger("loanfactory").setLevel(str(app.config["LOG_LEVEL"]).upper())
    app.before_request(_begin)
    app.after_request(_end)
    app.teardown_request(_teardown)
    before_task_publish.connect(_publish, weak=False, dispatch_uid="loanfactory.request_id.publish")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="loanfactory.request_id.prerun")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="loanfactory.request_id.postrun")
    setup_logging.connect(_worker_logging, weak=False, dispatch_uid="loanfactory.logging")
