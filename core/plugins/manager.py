"""The plugin manager: loads plugins, picks the one a product names, and contains its failures.

:func:`make_plugin_manager` is called by the app factory (``loanfactory.plugins_host``), never at import.
It registers the hook specifications, then the built-ins of :data:`DEFAULT_PLUGINS` (module paths, imported
and registered under their last path component, exactly as a third party's would be), then third parties
from the ``loanfactory`` entry-point group, then ``PLUGINS_EXTRA`` module paths, skipping every name in
``PLUGINS_DISABLED``; finally ``check_pending()`` refuses an implementation of a hook that does not exist.

Calls go through :meth:`PluginManager.call` (one named plugin) or :meth:`PluginManager.broadcast` (every
implementer of a contribute-hook). Each call runs on a reused worker thread with a timeout that stops it
(:mod:`core.plugins.runner`), inside a SAVEPOINT of the caller's session that the call's first database
block opens (a call that never touches the database, such as a scorecard, costs no SAVEPOINT and no
flush), and is recorded in ``plugin_calls`` (plugin, hook, duration, outcome, error). If the plugin raises
or times out, its database work is rolled back and the caller gets :class:`~core.plugins.types.PluginFailure`;
the record is written in the caller's transaction after the rollback, so it is kept when the caller commits
its own response to the failure (manual review, failed payment).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType, ModuleType
from typing import Any, cast

import pluggy
from sqlalchemy import DateTime, Float, Integer, String, Table, Text, case, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.businessday.clock import BusinessClock
from core.db.base import Base
from core.db.direct import insert_rows
from core.errors import LoanFactoryError
from core.plugins import hookspecs, runner
from core.plugins.types import PluginContext, PluginFailure, PluginNotFoundError, PluginSchema

log = logging.getLogger(__name__)

#: built-in plugins, by module path; each registers under its last component ("scorecard")
DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugins.scorecard",
    "plugins.sandbox_bureau",
    "plugins.sandbox_identity",
    "plugins.notifications",
    "plugins.local_esign",
    "plugins.sandbox_bank",
    "plugins.reports",
)
ENTRYPOINT_GROUP = hookspecs.PROJECT
DEFAULT_TIMEOUT_SECONDS = 10.0


class PluginLoadError(LoanFactoryError):
    """A plugin could not be loaded: its module fails to import, a hookimpl has arguments its spec does
    not have, or it implements a hook that no spec declares (``check_pending``)."""


class PluginCall(Base):
    """One recorded plugin call."""

    __tablename__ = "plugin_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80), index=True)
    hook: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(120), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    duration_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What is recorded about one call, before it becomes a :class:`PluginCall` row."""

    plugin: str
    hook: str
    subject: str | None
    started_at: datetime
    duration_ms: float
    outcome: str
    error: str | None


Recorder = Callable[[CallRecord, Session | None], None]


_NEW_CALL = insert(cast(Table, PluginCall.__table__)).inline()  # inline: no RETURNING of the id


def record_in_session(record: CallRecord, session: Session | None) -> None:
    """The default recorder: a ``plugin_calls`` row written in the caller's transaction with a Core insert (no
    ORM object is left for a flush; at once, or with the caller's :func:`core.db.direct.batched_inserts` block),
    or a log line without a session."""
    if session is None:
        log.info("plugin call %s.%s %s in %.1f ms %s", record.plugin, record.hook, record.outcome,
                 record.duration_ms, record.error or "")
        return
    insert_rows(session, _NEW_CALL, [{
        "plugin": record.plugin, "hook": record.hook, "subject": record.subject, "started_at": record.started_at,
        "duration_ms": record.duration_ms, "outcome": record.outcome, "error": record.error}])


@dataclass(frozen=True)
class PluginSettings:
    """The manager's configuration, read from the app config keys named in :meth:`from_config`."""

    disabled: frozenset[str] = frozenset()
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS
    timeouts: Mapping[str, float] = field(default_factory=dict)
    plugin_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    load_entrypoints: bool = True
    extra: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> PluginSettings:
        """Read ``PLUGINS_DISABLED`` (names), ``PLUGINS_TIMEOUT`` (seconds), ``PLUGINS_TIMEOUTS``
        (``{"name": s, "name.hook": s}``), ``PLUGIN_CONFIG`` (``{"name": {...}}``), ``PLUGINS_ENTRYPOINTS``
        (bool) and ``PLUGINS_EXTRA`` (module paths) from ``config``."""
        config = config or {}
        return cls(disabled=frozenset(config.get("PLUGINS_DISABLED") or ()),
                   default_timeout=float(config.get("PLUGINS_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS),
                   timeouts=dict(config.get("PLUGINS_TIMEOUTS") or {}),
                   plugin_config=dict(config.get("PLUGIN_CONFIG") or {}),
                   load_entrypoints=bool(config.get("PLUGINS_ENTRYPOINTS", True)),
                   extra=tuple(config.get("PLUGINS_EXTRA") or ()))

    def timeout_for(self, plugin: str, hook: str) -> float:
        """The most specific timeout: ``plugin.hook``, then ``plugin``, then the default."""
        return float(self.timeouts.get(f"{plugin}.{hook}", self.timeouts.get(plugin, self.default_timeout)))


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A line of the plugin listing."""

    name: str
    version: str
    source: str
    module: str
    hooks: tuple[str, ...]
    enabled: bool = True

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form for the API's plugins endpoint."""
        return {"name": self.name, "version": self.version, "source": self.source, "module": self.module,
                "hooks": list(self.hooks), "enabled": self.enabled}


class PluginManager:
    """Our face of a ``pluggy.PluginManager``: loading, per-name calls, recording, listing."""

    def __init__(self, settings: PluginSettings | None = None, *, recorder: Recorder = record_in_session,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings or PluginSettings()
        self.recorder = recorder
        self.clock = clock or BusinessClock().now
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, str] = {}
        #: (plugin, hook) -> the hook caller restricted to that plugin; emptied whenever plugins change
        self._callers: dict[tuple[str, str], tuple[Callable[..., Any], bool]] = {}

    # --- loading ------------------------------------------------------------------------------------

    def load(self, builtins: Iterable[str] = DEFAULT_PLUGINS) -> None:
        """Register built-ins, entry points and extras (minus the disabled), then ``check_pending``."""
        for name in self.settings.disabled:
            self.pm.set_blocked(name)
        for path in (*builtins, *self.settings.extra):
            name = path.rsplit(".", 1)[-1]
            if name in self.settings.disabled or name in self._sources:
                continue  # an extra that is also a built-in is loaded once
            self.register(_import(path), name, source="builtin" if path in builtins else "extra")
        if self.settings.load_entrypoints:
            before = set(self.pm.list_name_plugin())
            try:
                self.pm.load_setuptools_entrypoints(ENTRYPOINT_GROUP)
            except pluggy.PluginValidationError as error:
                raise PluginLoadError(f"{error.plugin}: {error}", field="plugins") from error
            except ImportError as error:
                raise PluginLoadError(f"a plugin of the {ENTRYPOINT_GROUP!r} entry-point group cannot be imported: "
                                      f"{error}", field="plugins") from error
            for name, _plugin in set(self.pm.list_name_plugin()) - before:
                self._sources[name] = "entrypoint"
        self.check_pending()

    def register(self, plugin: object, name: str, *, source: str = "registered") -> str:
        """Register ``plugin`` under ``name`` (tests, and the loader above).

        Raises:
            PluginLoadError: a hookimpl's arguments do not match its spec, or the name is taken.
        """
        try:
            registered = self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise PluginLoadError(f"plugin {name!r} cannot be registered: {error}", field=name) from error
        if registered is None:
            raise PluginLoadError(f"plugin {name!r} is disabled by configuration", field=name)
        self._sources[name] = source
        self._callers.clear()
        return registered

    def unregister(self, name: str) -> None:
        """Remove the plugin registered as ``name``."""
        self.pm.unregister(name=name)
        self._sources.pop(name, None)
        self._callers.clear()

    def check_pending(self) -> None:
        """Refuse any hookimpl whose hook has no spec (a typo in a hook name would otherwise be silent)."""
        self._callers.clear()  # the end of loading: entry points may have registered plugins
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            raise PluginLoadError(str(error), field="plugins") from error

    # --- finding ------------------------------------------------------------------------------------

    def plugin(self, name: str) -> object:
        """The plugin registered as ``name``.

        Raises:
            PluginNotFoundError: no such plugin, or it is disabled.
        """
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            state = "disabled by configuration" if name in self.settings.disabled else "not installed"
            raise PluginNotFoundError(f"plugin {name!r} is {state}; installed: {', '.join(self.names())}",
                                      field="plugin", value=name)
        return plugin

    def names(self) -> list[str]:
        """Names of the registered plugins, sorted."""
        return sorted(name for name in self._sources if self.pm.get_plugin(name) is not None)

    def hooks_of(self, name: str) -> tuple[str, ...]:
        """The hooks plugin ``name`` implements, sorted."""
        callers = self.pm.get_hookcallers(self.plugin(name)) or []
        return tuple(sorted(caller.name for caller in callers))

    def implementers(self, hook: str) -> list[str]:
        """Plugins implementing ``hook``, in call order (third parties first, ``trylast`` built-ins last)."""
        return [impl.plugin_name for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls())]

    # --- calling ------------------------------------------------------------------------------------

    def call(self, name: str, hook: str, *, session: Session | None = None, subject: str | None = None,
             timeout: float | None = None, **kwargs: Any) -> Any:
        """Call plugin ``name``'s implementation of ``hook`` with ``kwargs`` (``context`` is added).

        Args:
            name: the plugin the product names.
            hook: the hook (a name from :mod:`core.plugins.hookspecs`).
            session: the caller's session; the plugin reaches it through ``context.db()``.
            subject: what the call is about, for the record (``"application:42"``).
            timeout: seconds; default from the settings.

        Returns:
            The plugin's answer.

        Raises:
            PluginNotFoundError: the plugin is absent, disabled or does not implement ``hook``.
            PluginFailure: the plugin raised, timed out, or returned nothing from a one-answer hook
                (recorded, its database work rolled back).
        """
        caller, one_answer = self._caller(name, hook)
        context = self._context(name, hook, session)
        started, t0 = context.now, time.perf_counter()
        outcome, value = runner.run(lambda: caller(context=context, **kwargs),
                                           timeout if timeout is not None else self.settings.timeout_for(name, hook),
                                           on_timeout=context.cancel)
        if outcome == "error" and isinstance(value, LoanFactoryError):
            outcome = "refused"
        if outcome == "ok" and value is None and one_answer:
            outcome, value = "error", LoanFactoryError(f"{name}.{hook} returned nothing")
        if outcome != "ok":
            context.cancel()
        context.finish(keep=outcome == "ok")
        error = None if outcome == "ok" else _describe(outcome, value)
        self.recorder(CallRecord(plugin=name, hook=hook, subject=subject, started_at=started,
                                 duration_ms=(time.perf_counter() - t0) * 1000, outcome=outcome, error=error),
                      session)
        if outcome == "ok":
            return value
        cause = value if isinstance(value, BaseException) else None
        raise PluginFailure(f"plugin {name!r} failed in {hook}: {error}", plugin=name, hook=hook,
                            outcome=outcome, retryable=outcome != "refused", cause=cause) from cause

    def broadcast(self, hook: str, *, session: Session | None = None, subject: str | None = None,
                  **kwargs: Any) -> dict[str, Any]:
        """Call every implementer of a contribute-hook; a failing one is recorded and left out.

        Returns:
            ``{plugin name: answer}`` for the implementers that answered.
        """
        answers = {}
        for name in self.implementers(hook):
            try:
                answers[name] = self.call(name, hook, session=session, subject=subject, **kwargs)
            except PluginFailure as failure:
                log.warning("%s", failure)
        return answers

    def config_problems(self) -> list[str]:
        """Every plugin's answer to ``config_problems``, each line prefixed with the plugin's name.

        A start-up check, not a business call: it runs in the caller's thread, without a session, a
        timeout or a ``plugin_calls`` record, and an exception propagates (the app must not start on it).
        """
        problems = []
        for name in self.implementers("config_problems"):
            caller, _one = self._caller(name, "config_problems")
            problems += [f"{name}: {problem}" for problem in caller(context=self._context(name, "config_problems"))
                         or ()]
        return problems

    def _context(self, name: str, hook: str, session: Session | None = None) -> PluginContext:
        return PluginContext(plugin_name=name, hook=hook, now=self.clock(), session=session,
                             config=MappingProxyType(dict(self.settings.plugin_config.get(name, {}))))

    def _caller(self, name: str, hook: str) -> tuple[Callable[..., Any], bool]:
        """The hook caller restricted to plugin ``name``, and whether the hook gives one answer (built once
        per plugin and hook while the registered plugins stay the same)."""
        cached = self._callers.get((name, hook))
        if cached is None:
            cached = self._callers[(name, hook)] = self._restricted_caller(name, hook)
        return cached

    def _restricted_caller(self, name: str, hook: str) -> tuple[Callable[..., Any], bool]:
        plugin = self.plugin(name)
        hook_caller = getattr(self.pm.hook, hook, None)
        if hook_caller is None or hook not in self.hooks_of(name):
            raise PluginNotFoundError(f"plugin {name!r} does not implement the hook {hook!r}",
                                      field="hook", value=hook)
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        subset = self.pm.subset_hook_caller(hook, remove_plugins=others)
        if hook_caller.spec is not None and hook_caller.spec.opts.get("firstresult"):
            return subset, True

        def single(**kwargs: Any) -> Any:
            answers = subset(**kwargs)
            return answers[0] if answers else None

        return single, False

    # --- setup hooks --------------------------------------------------------------------------------

    def setup_call(self, name: str, hook: str, **kwargs: Any) -> Any:
        """Call plugin ``name``'s implementation of a setup hook (``register_commands``, ``plugin_schema``)
        directly: no worker thread, no timeout, no record, since nothing is running yet to protect.

        Raises:
            PluginLoadError: the implementation raised; the message names the plugin and the hook.
        """
        caller, _one_answer = self._caller(name, hook)
        try:
            return caller(**kwargs)
        except Exception as error:
            raise PluginLoadError(f"plugin {name!r} failed in {hook}: {type(error).__name__}: {error}",
                                  field=name) from error

    def schemas(self) -> dict[str, PluginSchema]:
        """``{plugin name: PluginSchema}`` of every plugin that brings tables (``plugin_schema``).

        Raises:
            PluginLoadError: a plugin's hook raised or answered something else than a ``PluginSchema``.
        """
        found = {}
        for name in self.implementers("plugin_schema"):
            schema = self.setup_call(name, "plugin_schema")
            if not isinstance(schema, PluginSchema):
                raise PluginLoadError(f"plugin {name!r}: plugin_schema returned {schema!r}, not a PluginSchema",
                                      field=name)
            found[name] = schema
        return found

    # --- listing ------------------------------------------------------------------------------------

    def listing(self, hook: str | None = None) -> list[PluginInfo]:
        """Every plugin (disabled ones too), or only those implementing ``hook``."""
        versions = {id(plugin): dist.version for plugin, dist in self.pm.list_plugin_distinfo()}
        infos = []
        for name in self.names():
            plugin = self.pm.get_plugin(name)
            hooks = self.hooks_of(name)
            if hook is None or hook in hooks:
                infos.append(PluginInfo(name=name, version=versions.get(id(plugin)) or _version_of(plugin),
                                        source=self._sources[name], module=_module_name(plugin), hooks=hooks))
        if hook is None:
            infos += [PluginInfo(name=name, version="", source="disabled", module="", hooks=(), enabled=False)
                      for name in sorted(self.settings.disabled)]
        return infos

    def as_json(self, hook: str | None = None) -> dict[str, Any]:
        """The JSON body of the plugins endpoint: the listing and the hook families."""
        return {"plugins": [info.as_json() for info in self.listing(hook)],
                "families": {family: list(hooks) for family, hooks in hookspecs.HOOK_FAMILIES.items()}}


OUTCOMES = ("ok", "refused", "error", "timeout")


def call_summary(session: Session, since: datetime | None = None) -> list[dict[str, Any]]:
    """Recorded calls per plugin and hook: count, count per outcome, mean and longest duration (ms).

    Args:
        session: a session on the database holding ``plugin_calls``.
        since: only calls started at or after this moment.
    """
    counts = [func.sum(case((PluginCall.outcome == outcome, 1), else_=0)) for outcome in OUTCOMES]
    query = (select(PluginCall.plugin, PluginCall.hook, func.count(), *counts, func.avg(PluginCall.duration_ms),
                    func.max(PluginCall.duration_ms))
             .group_by(PluginCall.plugin, PluginCall.hook).order_by(PluginCall.plugin, PluginCall.hook))
    if since is not None:
        query = query.where(PluginCall.started_at >= since)
    return [{"plugin": plugin, "hook": hook, "calls": total, **dict(zip(OUTCOMES, map(int, by_outcome), strict=True)),
             "mean_ms": round(float(mean), 1), "max_ms": round(float(longest), 1)}
            for plugin, hook, total, *by_outcome, mean, longest in session.execute(query)]


def make_plugin_manager(config: Mapping[str, Any] | None = None, *, recorder: Recorder = record_in_session,
                        clock: Callable[[], datetime] | None = None,
                        builtins: Iterable[str] = DEFAULT_PLUGINS) -> PluginManager:
    """Build and load a manager from an app config mapping (see :meth:`PluginSettings.from_config`)."""
    manager = PluginManager(PluginSettings.from_config(config), recorder=recorder, clock=clock)
    manager.load(tuple(builtins))
    return manager


def _import(path: str) -> ModuleType:
    try:
        return importlib.import_module(path)
    except ImportError as error:
        raise PluginLoadError(f"plugin module {path!r} cannot be imported: {error}", field="plugins",
                              value=path) from error


def _describe(outcome: str, value: Any) -> str:
    if outcome == "timeout":
        return f"no answer within {value:g} s"
    return f"{type(value).__name__}: {value}"


def _module_name(plugin: object) -> str:
    return plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__


def _version_of(plugin: object) -> str:
    version = getattr(plugin, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(hookspecs.PROJECT)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
