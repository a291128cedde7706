"""The sandbox bureau's own records: the queries it answered and the account events we reported.

Our own queries show up, as a real bureau's would, among the inquiries of the subject's later reports
(from the next day on, so a report stays the same all day).

Keys are SHA-256 hashes of ID numbers: the sandbox, like a real bureau's test environment, is no place
for plain ID numbers. An account event is unique per (account, kind, report date): resending it is
answered with the first receipt and stores nothing new.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Amount, Base


class SandboxBureauQuery(Base):
    """A report the sandbox produced, with the consent it was given."""

    __tablename__ = "sandbox_bureau_queries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    report_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(2))
    consent_reference: Mapped[str] = mapped_column(String(120))
    consent_purpose: Mapped[str] = mapped_column(String(200))
    queried_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queried_on: Mapped[date] = mapped_column(Date, index=True)
    institution: Mapped[str] = mapped_column(String(80))


class SandboxBureauSubmission(Base):
    """An account event we reported (PBoC record 210: open 10, monthly 30, close 20)."""

    __tablename__ = "sandbox_bureau_submissions"
    __table_args__ = (UniqueConstraint("account_id", "kind", "report_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(String(60), index=True)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    report_date: Mapped[date] = mapped_column(Date)
    account_type: Mapped[str] = mapped_column(String(2))
    balance: Mapped[Decimal] = mapped_column(Amount)
    overdue_amount: Mapped[Decimal] = mapped_column(Amount)
    status_symbol: Mapped[str] = mapped_column(String(1))
    five_tier: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
