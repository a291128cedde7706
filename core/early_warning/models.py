"""The early-warning tables: the numbered rule-set versions, and the warnings the rules raise.

A :class:`RuleSetVersion` is immutable once written: a change is a new version (the scan reads the latest,
and every warning names the version that raised it). An :class:`EarlyWarning` is one rule firing on one
line: the signal's value, the action taken, and how an operator handled it (``open`` until ``handled`` or
``dismissed``, with who, when and why). A rule that fires again on a line whose warning of that rule is
still open adds nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.credit_lines.models import CreditLine
from core.db.base import Base

#: the table a warning refers to, imported so that creating the metadata creates it too
REFERENCED = (CreditLine,)


class RuleSetVersion(Base):
    """One published version of the early-warning rules (the document as read by ``read_rule_set``)."""

    __tablename__ = "early_warning_rule_sets"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EarlyWarning(Base):
    """A rule that fired on a line, the action it took, and its handling."""

    __tablename__ = "early_warnings"
    __table_args__ = (Index("ix_early_warnings_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(10))
    signal: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="open")
    raised_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    handled_by: Mapped[str | None] = mapped_column(String(120))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))
