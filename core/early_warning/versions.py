"""Numbered versions of the early-warning rules: publish a checked document, read the one in force.

:func:`publish_rule_set` checks a document whole (:func:`core.early_warning.rules.read_rule_set`) and
stores it as the next version, audited; nothing is ever changed in place. :func:`current_rule_set` is the
latest version; a book that never published one starts from the shipped rules,
``product_configs/policy/early_warning.json``, published as version 1 by ``system`` on first use
(:func:`rules_in_force`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.backoffice.audit import record
from core.early_warning.models import RuleSetVersion
from core.early_warning.rules import Rule, read_rule_set
from core.products.problems import load_json

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "product_configs" / "policy" / "early_warning.json"


@dataclass(frozen=True)
class RuleSet:
    """A published version and its rules."""

    version: int
    rules: tuple[Rule, ...]


def publish_rule_set(session: Session, document: Any, *, actor: str, comment: str = "") -> RuleSet:
    """Store ``document`` as the next version (the table's rows are locked while it is numbered).

    Raises:
        InvalidRulesError: every problem of the document, with its pointer; nothing is stored.
    """
    rules = read_rule_set(document)
    session.execute(select(RuleSetVersion.version).with_for_update())
    version = (session.scalar(select(func.max(RuleSetVersion.version))) or 0) + 1
    session.add(RuleSetVersion(version=version, document=document, published_by=actor))
    record(session, actor=actor, action="early_warning.publish", entity_type="early_warning_rules",
           entity_id=version, after=document, comment=comment)
    return RuleSet(version, rules)


def current_rule_set(session: Session) -> RuleSet | None:
    """The latest published version, or ``None`` when there is none."""
    row = session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.version.desc()).limit(1)).first()
    return None if row is None else RuleSet(row.version, read_rule_set(row.document))


def rules_in_force(session: Session) -> RuleSet:
    """The latest version, publishing the shipped rules as version 1 when there is none yet."""
    current = current_rule_set(session)
    if current is not None:
        return current
    shipped = load_json(SHIPPED_RULES.read_text(encoding="utf-8"))
    return publish_rule_set(session, shipped, actor="system", comment="the shipped rules")
