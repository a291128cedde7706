"""Every setting the deployment reads, in one place: its name, default, meaning and whether production needs
it. ``docs/configuration.md`` is generated from :data:`SETTINGS` (``python -m loanfactory.reference``), and
``tests/ops/test_configuration_reference.py`` holds the two to the code: every key the code reads is here, every
setting here is read, each default is the one the code falls back to, and the page is what this module prints.

Settings are Flask configuration keys, given in the environment as ``LOANFACTORY_<NAME>`` (values parsed as
JSON when they can be; ``LOANFACTORY_CELERY__broker_url`` sets a nested key); ``DATABASE_URL`` is also read
without the prefix. A few are plain environment variables (``env`` below) that tools read before any app exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

#: ``production`` values: a deployment must set it / must set it to a value other than the default / may leave it
REQUIRED, CHANGE, OPTIONAL = "required", "set (not the default)", "optional"


@dataclass(frozen=True)
class Computed:
    """A default the app works out at start (named in ``how``) rather than a fixed value."""

    how: str


@dataclass(frozen=True)
class Setting:
    """One setting: ``name``, ``default``, ``meaning``, ``production`` (:data:`REQUIRED`, :data:`CHANGE` or
    :data:`OPTIONAL`) and ``group`` (the page's section); ``env`` names a plain environment variable."""

    name: str
    default: object
    meaning: str
    production: str = OPTIONAL
    group: str = "Application"
    env: bool = False

    @property
    def variable(self) -> str:
        """The environment variable that sets it."""
        return self.name if self.env else f"LOANFACTORY_{self.name}"


S = Setting
SETTINGS: tuple[Setting, ...] = (
    # --- secrets and the database
    S("SECRET_KEY", Computed("none: refused outside demo and tests; a random one per process in them"),
      "signs the admin's session cookie; at least 32 characters, not a value published in the source",
      REQUIRED, "Secrets"),
    S("LOANFACTORY_PII_KEY", Computed("none: refused outside demo and tests"),
      "key ring encrypting personal data at rest (`id:base64key,...`, the first encrypts)", REQUIRED, "Secrets",
      env=True),
    S("LOANFACTORY_BLIND_INDEX_KEY", Computed("none: refused outside demo and tests"),
      "HMAC key of the blind indexes that find a customer by ID number or phone", REQUIRED, "Secrets", env=True),
    S("LOANFACTORY_NEW_PASSWORD", None,
      "the password `loanfactory users create` / `users set-password` take instead of prompting", OPTIONAL,
      "Secrets", env=True),
    S("LOANFACTORY_PASSWORD", None, "the signing-in user's password for the commands that take `--user` "
      "(`loanfactory products ...`) instead of prompting", OPTIONAL, "Secrets", env=True),
    S("DATABASE_URL", Computed("a SQLite file under the instance folder"),
      "the database (plain `DATABASE_URL` works too); production runs PostgreSQL "
      "(`postgresql://...`)", REQUIRED, "Database"),
    S("AUTO_CREATE_TABLES", True,
      "create missing tables at start; production sets false and runs `loanfactory db upgrade`", CHANGE, "Database"),
    S("DEMO", False, "demo mode: development secrets allowed, plain-http webhooks accepted", OPTIONAL, "Modes"),
    S("TESTING", False, "the test suite's mode (development secrets allowed)", OPTIONAL, "Modes"),
    S("FACES", ("admin", "api"), "the web faces to attach (the command line's app has none)", OPTIONAL, "Modes"),
    # --- time and money guards
    S("BUSINESS_TIMEZONE", "Asia/Shanghai", "the lender's IANA time zone: today's business date is today there",
      OPTIONAL, "Business clock"),
    S("API_BUSINESS_DATE", None, "pin the business date (sandboxes and tests; never in production)", OPTIONAL,
      "Business clock"),
    S("OVERPAYMENT_MAX_MULTIPLE", "2", "the most a repayment may bring, with suspense held, in payoffs of the loan",
      OPTIONAL, "Money guards"),
    S("PAYMENT_CALLBACK_TOLERANCE_DAYS", 1, "days after today a payment channel's settlement date may fall",
      OPTIONAL, "Money guards"),
    S("RETURN_RESUBMIT_DAYS", 7, "days a channel has to answer an application returned for more information",
      OPTIONAL, "Money guards"),
    # --- Celery and jobs
    S("CELERY", {}, "Celery settings (`LOANFACTORY_CELERY__broker_url=redis://...`, "
      "`LOANFACTORY_CELERY__task_always_eager=false`); no result backend is needed", REQUIRED, "Jobs"),
    S("EOD_AT", "00:30", "local time (BUSINESS_TIMEZONE) at which beat closes the day that just ended; "
      "empty: not scheduled", OPTIONAL, "Jobs"),
    S("EOD_CATCHUP_SECONDS", 300, "how often beat catches up missed dates and resends a stalled run", OPTIONAL,
      "Jobs"),
    S("EOD_STALL_SECONDS", 300, "an open end-of-day run with no progress this long is stalled (resent, reported)",
      OPTIONAL, "Jobs"),
    S("EOD_PARTITION_SIZE", 50_000, "loan ids per end-of-day partition (one task each)", OPTIONAL, "Jobs"),
    S("EXPIRY_SECONDS", 600, "how often beat expires lapsed offers and unanswered returns", OPTIONAL, "Jobs"),
    S("CUSTOMER_RETAG_SECONDS", 86_400, "how often beat runs the customer tag rules (0: never)", OPTIONAL, "Jobs"),
    S("RETENTION_PURGE_SECONDS", 86_400, "how often beat runs the retention purge of expired records (0: never)",
      OPTIONAL, "Jobs"),
    S("DEBIT_RUN_SECONDS", 3600, "how often beat starts the due run of automatic debits (an attempt planned for an "
      "hour leaves within this)", OPTIONAL, "Jobs"),
    S("PROJECTION_VERIFY_SECONDS", 86_400, "how often beat proves the balance projection (0: never)", OPTIONAL,
      "Jobs"),
    S("PROJECTION_VERIFY_RANGE_SIZE", 50_000, "loan ids per projection check task", OPTIONAL, "Jobs"),
    # --- documents
    S("DOCUMENTS_DIR", Computed("<instance>/documents"), "where uploaded documents are stored, encrypted, by "
      "their SHA-256 (back it up with the database)", CHANGE, "Documents"),
    S("DOCUMENTS_MAX_BYTES", Computed("10 MiB (core.documents.kinds.DEFAULT_MAX_BYTES)"),
      "the largest document upload accepted", OPTIONAL, "Documents"),
    # --- plugins
    S("PLUGINS_DISABLED", None, "plugin names not to load (their tables stay)", OPTIONAL, "Plugins"),
    S("PLUGINS_TIMEOUT", Computed("10 seconds (core.plugins.manager.DEFAULT_TIMEOUT_SECONDS)"),
      "seconds a plugin call may take", OPTIONAL, "Plugins"),
    S("PLUGINS_TIMEOUTS", None, "per plugin or `plugin.hook` timeouts", OPTIONAL, "Plugins"),
    S("PLUGIN_CONFIG", None, "each plugin's own settings, `{name: {...}}`; the sandbox bank's `callback_secret` "
      "is required unless it is disabled", REQUIRED, "Plugins"),
    S("PLUGINS_ENTRYPOINTS", True, "load third-party plugins from the `loanfactory` entry-point group", OPTIONAL,
      "Plugins"),
    S("PLUGINS_EXTRA", None, "more plugin module paths to load", OPTIONAL, "Plugins"),
    # --- channel API
    S("API_RATE_LIMIT_ENABLED", True, "enforce each key's rate limit", OPTIONAL, "Channel API"),
    S("API_AUTH_FAILURE_LIMIT", "30/minute", "failed authentications allowed per address", OPTIONAL, "Channel API"),
    S("RATELIMIT_STORAGE_URI", "local://", "where rate-limit windows are counted; several processes need "
      "`redis://...`", REQUIRED, "Channel API"),
    S("RATELIMIT_STORAGE_OPTIONS", {}, "options for that storage (the `limits` library's keyword arguments)",
      OPTIONAL, "Channel API"),
    S("API_KEY_CACHE", True, "cache API keys and products in the process (PostgreSQL, invalidated by NOTIFY)",
      OPTIONAL, "Channel API"),
    S("API_KEY_CACHE_SECONDS", 60.0, "how long a cached key is trusted should a notification be lost", OPTIONAL,
      "Channel API"),
    S("MAX_CONTENT_LENGTH", 1_048_576, "the largest request body, in bytes", OPTIONAL, "Channel API"),
    S("API_WEBHOOKS_ENABLED", True, "dispatch webhooks after each API write", OPTIONAL, "Channel API"),
    S("API_WEBHOOKS_ALLOW_HTTP", Computed("false; true in demo mode"), "accept plain `http://` receivers",
      OPTIONAL, "Channel API"),
    S("API_WEBHOOKS_ALLOW_LOOPBACK", False, "accept receivers on this machine (tests only, never production)",
      OPTIONAL, "Channel API"),
    S("TRUSTED_PROXIES", 0, "how many proxies in front set `X-Forwarded-For` / `-Proto` (the client's address "
      "for rate limits and sign-in throttles)", CHANGE, "Channel API"),
    # --- admin sessions and sign-in
    S("SESSION_COOKIE_SECURE", Computed("true, except in demo and tests"), "send the admin's cookie over https "
      "only", OPTIONAL, "Admin"),
    S("SESSION_COOKIE_SAMESITE", "Lax", "the admin cookie's SameSite", OPTIONAL, "Admin"),
    S("SESSION_IDLE_MINUTES", 30, "an admin session ends after this long without a request", OPTIONAL, "Admin"),
    S("SESSION_ABSOLUTE_HOURS", 12, "an admin session ends this long after sign-in", OPTIONAL, "Admin"),
    S("PERMANENT_SESSION_LIFETIME", Computed("SESSION_ABSOLUTE_HOURS"), "set from SESSION_ABSOLUTE_HOURS",
      OPTIONAL, "Admin"),
    S("SIGNIN_ACCOUNT_FAILURES", 5, "failed sign-ins that lock an account", OPTIONAL, "Admin"),
    S("SIGNIN_ADDRESS_FAILURES", 20, "failed sign-ins that lock an address", OPTIONAL, "Admin"),
    S("SIGNIN_WINDOW_MINUTES", 15, "the window those failures are counted in", OPTIONAL, "Admin"),
    S("SIGNIN_LOCKOUT_MINUTES", 15, "how long a lock lasts", OPTIONAL, "Admin"),
    S("BABEL_DEFAULT_LOCALE", "zh_CN", "the admin's language unless the user picks another", OPTIONAL, "Admin"),
    # --- operations
    S("LOG_LEVEL", "INFO", "the lowest level logged", OPTIONAL, "Operations"),
    S("LOG_FORMAT", "json", "`json` (one object per line, with `request_id`) or `text`", OPTIONAL, "Operations"),
    S("LOG_CONFIGURE", Computed("true, false under TESTING"), "set up the process's logging", OPTIONAL,
      "Operations"),
    S("READY_EOD_MAX_AGE_DAYS", 2, "`/readyz` fails when the last closed business date is older", OPTIONAL,
      "Operations"),
    S("PROMETHEUS_MULTIPROC_DIR", None, "an empty directory shared by gunicorn's workers, so `/metrics` adds "
      "them up (made by the serving command when unset)", OPTIONAL, "Operations", env=True),
    S("GUNICORN_BIND", "127.0.0.1:8000", "where the recommended serving command listens "
      "(`gunicorn -c python:loanfactory.gunicorn_conf 'loanfactory.app:create_app()'`)", OPTIONAL, "Operations",
      env=True),
    S("GUNICORN_WORKERS", "2", "its sync workers (one per core)", OPTIONAL, "Operations", env=True),
)


def _shown(value: object) -> str:
    if isinstance(value, Computed):
        return value.how
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g} s"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value!r}`".replace("'", '"')


def markdown() -> str:
    """The configuration reference page (``docs/configuration.md``)."""
    lines = ["# Configuration reference", "",
             "Generated from `loanfactory/reference.py` (`python -m loanfactory.reference > docs/configuration.md`);",
             "a test holds it to the code. Each setting is given in the environment as the variable shown",
             "(`LOANFACTORY_` and the name; values parsed as JSON when they can be, `LOANFACTORY_CELERY__broker_url`",
             "sets a nested key). *Production* says what a production deployment must do: `required` (set it),",
             "`set (not the default)` (the default is for the embedded demo) or `optional`.", ""]
    groups: dict[str, list[Setting]] = {}
    for setting in SETTINGS:
        groups.setdefault(setting.group, []).append(setting)
    for group, settings in groups.items():
        lines += [f"## {group}", "", "| variable | default | meaning | production |", "|---|---|---|---|"]
        lines += [f"| `{s.variable}` | {_shown(s.default)} | {s.meaning} | {s.production} |" for s in settings]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
