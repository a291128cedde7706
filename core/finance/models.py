"""Finance's tables: the versions of the chart of accounts.

A :class:`ChartVersion` is one loaded version of the lender's chart (:mod:`core.finance.chart`), kept
whole as its JSON document; versions are never changed, a new one supersedes from its ``effective_from``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class ChartVersion(Base):
    """One version of the chart of accounts, as loaded (``version`` unique, increasing)."""

    __tablename__ = "gl_chart_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_by: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
