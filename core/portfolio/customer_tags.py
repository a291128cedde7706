"""Tags set by rules (规则标签): conditions over a customer's profile, kept as dated data.

The rules live in ``customer_tag_rules.json`` beside this module: versions, each with ``effective_from``,
``source`` and its rules (``tag``, ``condition`` in the product condition language
(:mod:`core.products.expressions`) over :data:`PROFILE_VARIABLES`, a Chinese and English ``label``). The
version in force on a day is the latest that took effect by then. :func:`apply_tag_rules` evaluates it over
:func:`~core.portfolio.customer_profile.customer_profile` and makes the matching tags the customer's rule tags
(:func:`core.customers.tags.replace_rule_tags`), set by ``customer_tags@<effective_from>``; staff tags are
left alone. :func:`every_subject` walks the book for a scheduled run (``loanfactory customers retag``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.customers.enterprises import Enterprise
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef
from core.customers.tags import checked_code, replace_rule_tags
from core.errors import InvalidArgumentError, LoanFactoryError
from core.portfolio.customer_profile import CustomerProfile, customer_profile
from core.products.expressions import Condition, Type, compile_condition

RULES_FILE = Path(__file__).with_name("customer_tag_rules.json")
#: subjects read per query by :func:`every_subject`
PAGE = 500

#: variable -> (type, what it is): what a tag rule's condition may name
PROFILE_VARIABLES: dict[str, tuple[Type, str]] = {
    "exposure": (Type.NUMBER, "principal outstanding on live loans, CNY"),
    "live_loans": (Type.NUMBER, "loans active or overdue"),
    "closed_loans": (Type.NUMBER, "loans paid off, closed early or written off"),
    "applications": (Type.NUMBER, "applications made"),
    "installments_due": (Type.NUMBER, "installments due so far"),
    "paid_late": (Type.NUMBER, "installments paid after their due date"),
    "unpaid_past_due": (Type.NUMBER, "installments unpaid past their due date"),
    "max_days_past_due": (Type.NUMBER, "the most days an installment was or is late"),
    "latest_score": (Type.NUMBER, "the score of the latest scored application, 0 when none"),
    "score_change": (Type.NUMBER, "latest score less the first one, 0 with fewer than two"),
    "customer_type": (Type.STRING, "'individual' or 'enterprise'"),
}


@dataclass(frozen=True)
class TagRule:
    tag: str
    condition: Condition
    label: dict[str, str]


@dataclass(frozen=True)
class TagRuleSet:
    """One dated version of the rules."""

    effective_from: date
    source: str
    rules: tuple[TagRule, ...]

    @property
    def name(self) -> str:
        return f"customer_tags@{self.effective_from.isoformat()}"


def parse_rule_sets(document: dict[str, Any]) -> tuple[TagRuleSet, ...]:
    """The versions of a rules document, oldest first.

    Raises:
        InvalidArgumentError: a version without a date or source, a malformed tag, or a condition that does
            not compile over :data:`PROFILE_VARIABLES` (``field`` is its place, ``versions.0.rules.2``).
    """
    variables = {name: spec[0] for name, spec in PROFILE_VARIABLES.items()}
    found = []
    for number, version in enumerate(document.get("versions", [])):
        where = f"versions.{number}"
        try:
            effective = date.fromisoformat(version["effective_from"])
            source = str(version["source"])
        except (KeyError, TypeError, ValueError):
            raise InvalidArgumentError(f"{where}: needs effective_from (YYYY-MM-DD) and source",
                                       field=where) from None
        rules = []
        for index, rule in enumerate(version.get("rules", [])):
            try:
                rules.append(TagRule(checked_code(rule["tag"]), compile_condition(rule["condition"], variables),
                                     dict(rule["label"])))
            except (KeyError, TypeError, ValueError, LoanFactoryError) as error:
                raise InvalidArgumentError(f"{where}.rules.{index}: {error}", field=f"{where}.rules.{index}") \
                    from None
        found.append(TagRuleSet(effective, source, tuple(rules)))
    return tuple(sorted(found, key=lambda s: s.effective_from))


@cache
def shipped_rule_sets() -> tuple[TagRuleSet, ...]:
    """The versions in :data:`RULES_FILE`."""
    return parse_rule_sets(json.loads(RULES_FILE.read_text(encoding="utf-8")))


def rule_set_on(day: date, sets: tuple[TagRuleSet, ...] | None = None) -> TagRuleSet | None:
    """The version in force on ``day`` (the latest that took effect by then), or ``None`` before the first."""
    in_force = [s for s in (sets if sets is not None else shipped_rule_sets()) if s.effective_from <= day]
    return in_force[-1] if in_force else None


def profile_context(profile: CustomerProfile) -> dict[str, object]:
    """The values of :data:`PROFILE_VARIABLES` for ``profile``."""
    scores = [score for _day, score in profile.score_trend]
    return {
        "exposure": profile.exposure, "live_loans": Decimal(profile.live_loans),
        "closed_loans": Decimal(profile.closed_loans), "applications": Decimal(profile.applications),
        "installments_due": Decimal(profile.installments_due), "paid_late": Decimal(profile.paid_late),
        "unpaid_past_due": Decimal(profile.unpaid_past_due),
        "max_days_past_due": Decimal(profile.max_days_past_due),
        "latest_score": Decimal(scores[-1] if scores else 0),
        "score_change": Decimal(scores[-1] - scores[0] if len(scores) > 1 else 0),
        "customer_type": profile.subject.kind,
    }


def apply_tag_rules(session: Session, subject: PartyRef, *, as_of: date, now: datetime,
                    sets: tuple[TagRuleSet, ...] | None = None) -> list[str]:
    """Evaluate the rules in force on ``as_of`` over the subject's profile and store the matching tags as its
    rule tags; returns them (none, and the old ones removed, before the first version takes effect)."""
    rule_set = rule_set_on(as_of, sets)
    if rule_set is None:
        return replace_rule_tags(session, subject, [], rule_set="customer_tags", now=now)
    context = profile_context(customer_profile(session, subject, as_of))
    matched = [rule.tag for rule in rule_set.rules if rule.condition.evaluate(context)]
    return replace_rule_tags(session, subject, matched, rule_set=rule_set.name, now=now)


def every_subject(session: Session) -> Iterator[PartyRef]:
    """Every individual, then every enterprise, in id order (read in pages, for a run over the whole book)."""
    for kind, table in ((INDIVIDUAL, Customer), (ENTERPRISE, Enterprise)):
        last = 0
        while True:
            ids = list(session.scalars(select(table.id).where(table.id > last).order_by(table.id).limit(PAGE)))
            if not ids:
                break
            yield from (PartyRef(kind, subject_id) for subject_id in ids)
            last = ids[-1]


def retag_in_pages(session: Session, *, as_of: date, now: datetime) -> Iterator[tuple[int, Counter[str]]]:
    """Apply the rules to every subject (:func:`every_subject`), yielding ``(subjects, tags set)`` for each page
    of :data:`PAGE` subjects once it is done, so the caller can commit page by page."""
    subjects = list(every_subject(session))
    for start in range(0, len(subjects), PAGE):
        page = subjects[start:start + PAGE]
        tally: Counter[str] = Counter()
        for subject in page:
            tally.update(apply_tag_rules(session, subject, as_of=as_of, now=now))
        yield len(page), tally
