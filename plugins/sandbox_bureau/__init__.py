"""``sandbox_bureau``: a deterministic synthetic credit bureau standing where 征信 would be.

It refuses a query without consent, answers with a report generated from the ID number
(:mod:`plugins.sandbox_bureau.generator`), logs each query with its consent, lists our earlier queries
(before today) among the report's inquiries as a real bureau does, and keeps every account event we
report (:mod:`plugins.sandbox_bureau.models`), idempotently.

Settings (``PLUGIN_CONFIG["sandbox_bureau"]``), to rehearse an unreliable bureau:

- ``latency_seconds``: sleep this long before answering (with the manager's timeout: a timeout);
- ``failure_rate``: the share of calls that fail as an outage (0 to 1, drawn at random);
- ``failing_ids``: ID numbers whose queries always fail (deterministic failures for tests and demos);
- ``institution``: the name our queries appear under in later reports (default ``本机构``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import time
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, bindparam, insert, select

from core.db import driver
from core.errors import InvalidArgumentError
from core.plugins.hookspecs import hookimpl
from core.plugins.types import (
    BureauAccountEvent,
    BureauAck,
    BureauInquiry,
    BureauQuery,
    BureauReport,
    ConsentRequiredError,
    PluginContext,
    PluginSchema,
)
from plugins.sandbox_bureau.generator import generate_report, subject_hash
from plugins.sandbox_bureau.models import SandboxBureauQuery, SandboxBureauSubmission

__version__ = "1.0.0"
GRID_SYMBOLS = set("N1234567CGDZBM*#/")
_QUERIES = cast(Table, SandboxBureauQuery.__table__)
#: our earlier queries of a subject (two years, before today), read on every bureau query, and the log of this
#: one: Core statements built once (building an ORM statement or object costs more than running the query)
_EARLIER_QUERIES = (select(_QUERIES.c.queried_on, _QUERIES.c.institution, _QUERIES.c.reason)
                    .where(_QUERIES.c.subject_hash == bindparam("subject"), _QUERIES.c.queried_on < bindparam("today"),
                           _QUERIES.c.queried_on >= bindparam("since")))
_LOG_QUERY = insert(_QUERIES)
#: PostgreSQL reads the earlier queries and logs this one in one statement: the INSERT rides in the SELECT's WITH,
#: and the SELECT does not see the row it adds (one snapshot for the whole statement; today's row is not
#: asked for anyway)
_EARLIER_QUERIES_THEN_LOG = _EARLIER_QUERIES.add_cte(insert(_QUERIES).values(
    subject_hash=bindparam("subject"), queried_on=bindparam("today"),
    **{name: bindparam(name) for name in ("report_id", "reason", "consent_reference", "consent_purpose",
                                          "queried_at", "institution")}).cte("logged"))


class BureauOutageError(ConnectionError):
    """The sandbox pretends to be down (``failure_rate`` or ``failing_ids``)."""


def _outside_party(context: PluginContext, id_number: str | None = None) -> None:
    """Behave like a remote bureau: wait, and sometimes fail."""
    time.sleep(float(context.config.get("latency_seconds", 0)))
    if id_number is not None and id_number in set(context.config.get("failing_ids", ())):
        raise BureauOutageError(f"sandbox bureau: injected outage for this subject ({context.hook})")
    if random.random() < float(context.config.get("failure_rate", 0)):
        raise BureauOutageError(f"sandbox bureau: injected outage ({context.hook})")


@hookimpl(trylast=True)
def bureau_query(context: PluginContext, query: BureauQuery) -> BureauReport:
    """Check consent, then answer with the subject's synthetic report as of ``context.now``."""
    consent = query.consent
    if consent is None:
        raise ConsentRequiredError("bureau query refused: the applicant's consent is missing", field="consent")
    if consent.granted_at > context.now:
        raise ConsentRequiredError("bureau query refused: consent is dated in the future",
                                   field="consent.granted_at", value=consent.granted_at)
    if not consent.purpose.strip():
        raise ConsentRequiredError("bureau query refused: consent names no purpose", field="consent.purpose")
    _outside_party(context, query.id_number)
    today, subject = context.now.date(), subject_hash(query.id_number)
    report = generate_report(query.id_number, today, bureau=context.plugin_name)
    if not context.has_session:
        return report
    institution = str(context.config.get("institution", "本机构"))
    log = {"report_id": report.report_id, "reason": query.reason, "consent_reference": consent.reference,
           "consent_purpose": consent.purpose, "queried_at": context.now, "institution": institution}
    earlier_of = {"subject": subject, "today": today, "since": today - timedelta(days=730)}
    with context.db() as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            ours = driver.execute(connection, _EARLIER_QUERIES_THEN_LOG, earlier_of | log)
        else:
            ours = connection.execute(_EARLIER_QUERIES, earlier_of).all()
            connection.execute(_LOG_QUERY, {"subject_hash": subject, "queried_on": today, **log})
    earlier = tuple(BureauInquiry(queried_on=day, institution=name, reason=reason) for day, name, reason in ours)
    return dataclasses.replace(report, inquiries=tuple(sorted(report.inquiries + earlier,
                                                              key=lambda q: q.queried_on)))


@hookimpl(trylast=True)
def bureau_report_account(context: PluginContext, event: BureauAccountEvent) -> BureauAck:
    """Validate and store an account event; the same event again returns the first receipt."""
    _check_event(event)
    _outside_party(context)
    key = f"{event.account_id}|{event.kind}|{event.report_date}"
    reference = "SBA-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    with context.db() as session:
        stored = session.scalar(select(SandboxBureauSubmission).where(
            SandboxBureauSubmission.account_id == event.account_id, SandboxBureauSubmission.kind == event.kind,
            SandboxBureauSubmission.report_date == event.report_date))
        if stored is not None:
            return BureauAck(reference=stored.reference, accepted=True, message="duplicate: already received")
        fields = {k: v for k, v in dataclasses.asdict(event).items() if k not in ("id_number", "name")}
        payload = json.loads(json.dumps(fields, default=str))
        session.add(SandboxBureauSubmission(
            reference=reference, account_id=event.account_id, subject_hash=subject_hash(event.id_number),
            kind=event.kind, report_date=event.report_date, account_type=event.account_type, balance=event.balance,
            overdue_amount=event.overdue_amount, status_symbol=event.status_symbol, five_tier=event.five_tier,
            payload=payload, received_at=context.now))
        session.flush()
    return BureauAck(reference=reference, accepted=True)


def _check_event(event: BureauAccountEvent) -> None:
    if event.kind not in ("open", "monthly", "close"):
        raise InvalidArgumentError(f"kind: {event.kind!r} is not open, monthly or close", field="kind")
    if event.account_type not in ("D1", "R1", "R4"):
        raise InvalidArgumentError(f"account_type: {event.account_type!r} is not D1, R1 or R4", field="account_type")
    if event.status_symbol not in GRID_SYMBOLS or len(event.status_symbol) != 1:
        raise InvalidArgumentError(f"status_symbol: {event.status_symbol!r} is not a repayment grid symbol",
                                   field="status_symbol")
    if not 1 <= event.five_tier <= 5:
        raise InvalidArgumentError(f"five_tier: {event.five_tier} is not 1 (正常) to 5 (损失)", field="five_tier")
    if event.kind == "close" and event.balance != 0:
        raise InvalidArgumentError(f"balance: a closed account must have no balance, got {event.balance}",
                                   field="balance")


@hookimpl(trylast=True)
def plugin_schema() -> PluginSchema:
    """The query log and received submissions (``models``), and the revisions that make them (``migrations/``)."""
    return PluginSchema.of_package(__name__)
