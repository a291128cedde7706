"""``example_rules``: the worked example of docs/plugins.md.

Two hooks at work:

- ``score_application``: a rules score anyone can recompute by hand. Start at 600 and subtract points
  for each risk found; every deduction is a reason code. Grades: A ≥ 580, B ≥ 520, C ≥ 460, D ≥ 400, E.
- ``lifecycle_event``: a webhook for each application or loan state change, as a JSON body signed with
  HMAC-SHA256 (``X-Signature`` hex over the exact bytes), appended as one JSON line to the file named by
  ``webhook_outbox`` (a real deployment would POST it; the file stands in for the receiver). Without a
  ``webhook_outbox`` setting the listener is off. With the caller's session, each webhook is also kept in
  the plugin's own table, ``example_rules_webhooks``.

And the two setup hooks that bring the rest, as every built-in does:

- ``register_commands``: ``loanfactory example-rules webhooks`` lists the kept webhooks (:mod:`.cli`).
- ``plugin_schema``: the table (:mod:`.models`) and the Alembic branch ``example_rules`` that creates it
  (``migrations/``), so ``loanfactory db upgrade`` makes it.

Settings (``PLUGIN_CONFIG["example_rules"]``): ``webhook_secret`` (required when ``webhook_outbox`` is
set), ``webhook_outbox`` (a file path).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import click

from core.errors import LoanFactoryError
from core.plugins.hookspecs import hookimpl
from core.plugins.types import (
    ApplicantProfile,
    ApplicationFacts,
    BureauReport,
    LifecycleEvent,
    PluginContext,
    PluginSchema,
    ReasonCode,
    ScoreResult,
)
from loanfactory_example_rules.models import SignedWebhook

__version__ = "0.4.0"
BASE_SCORE = 600
GRADES = (("A", 580), ("B", 520), ("C", 460), ("D", 400), ("E", None))


def deductions(application: ApplicationFacts, applicant: ApplicantProfile,
               report: BureauReport | None) -> list[tuple[str, str, str, int]]:
    """Every rule that fires: (code, characteristic, description, points)."""
    found = []
    payment = application.monthly_payment or application.amount / application.term_months
    burden = payment / applicant.monthly_income if applicant.monthly_income > 0 else Decimal(1)
    if burden > Decimal("0.35"):
        found.append(("R01", "burden", "月供超过收入的35%", 60))
    elif burden > Decimal("0.25"):
        found.append(("R01", "burden", "月供超过收入的25%", 30))
    if applicant.age < 22:
        found.append(("R02", "age", "年龄小于22岁", 30))
    if report is None:
        found.append(("R03", "bureau", "无征信报告", 20))
    else:
        if report.worst_status >= 3:
            found.append(("R04", "delinquency", "近24个月有90天以上逾期", 120))
        elif report.worst_status >= 1:
            found.append(("R04", "delinquency", "近24个月有逾期", 40))
        if report.inquiries_within(3) >= 4:
            found.append(("R05", "inquiries", "近3个月多头申请", 50))
        if report.court_records:
            found.append(("R06", "court", "有涉诉记录", 80))
        if report.blacklist:
            found.append(("R07", "blacklist", "在失信名单上", 200))
    return found


@hookimpl
def score_application(context: PluginContext, application: ApplicationFacts, applicant: ApplicantProfile,
                      bureau_report: BureauReport | None) -> ScoreResult:
    """600 minus the deductions; reason codes are the deductions, largest first."""
    found = sorted(deductions(application, applicant, bureau_report), key=lambda d: -d[3])
    score = BASE_SCORE - sum(points for *_, points in found)
    grade = next(g for g, minimum in GRADES if minimum is None or score >= minimum)
    return ScoreResult(score=score, grade=grade, model_version=f"example-rules-{__version__}",
                       reason_codes=tuple(ReasonCode(code, name, text, Decimal(points))
                                          for code, name, text, points in found))


@hookimpl
def lifecycle_event(context: PluginContext, event: LifecycleEvent) -> None:
    """Sign the event as a webhook and append it to the outbox file."""
    outbox = context.config.get("webhook_outbox")
    if not outbox:
        return
    secret = context.config.get("webhook_secret")
    if not secret:
        raise LoanFactoryError("webhook_secret: required to sign webhooks", field="webhook_secret")
    body = json.dumps({"entity": event.entity, "id": event.entity_id, "from": event.from_state,
                       "to": event.to_state, "at": event.at.isoformat(), "actor": event.actor,
                       "reason": event.reason}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    signature = hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
    with Path(outbox).open("a", encoding="utf-8") as file:
        file.write(json.dumps({"headers": {"X-Signature": signature}, "body": body.decode("utf-8")},
                              ensure_ascii=False) + "\n")
    if context.has_session:
        with context.db() as session:
            session.add(SignedWebhook(entity=event.entity, entity_id=event.entity_id, to_state=event.to_state,
                                      body=body.decode("utf-8"), signature=signature, signed_at=context.now))


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``loanfactory example-rules``."""
    from loanfactory_example_rules.cli import example_rules

    cli.add_command(example_rules)


@hookimpl
def plugin_schema() -> PluginSchema:
    """The webhooks table (``models``) and the revisions that make it (``migrations/``)."""
    return PluginSchema.of_package(__name__)
