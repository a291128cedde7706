"""The message log: one row per message a loan's borrower is to get, and what became of it.

``key`` is unique (``<loan>:<event>:<period>:<day or attempt>``), so planning the same message twice writes
it once, and it is the ``request_id`` given to ``notification_send``, so a message sent twice (a worker
that died after the provider accepted it) reaches the borrower once. ``state``: ``pending`` (to send from
``send_after``), ``sent`` (the provider's ``outcome`` and ``provider_reference`` recorded), ``failed``
(refused by the provider: a bad template or recipient, not retried). A message outside the window or over
the day's cap stays ``pending`` with ``send_after`` moved on and ``deferrals`` counted; a provider that
breaks leaves it ``pending`` with the error, for the next send.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base

#: the events a loan's borrower is told about, and the notification template each uses
TEMPLATES = {"reminder": "repayment_due", "due_today": "due_today", "debit_succeeded": "repayment_received",
             "debit_failed": "debit_failed", "overdue": "overdue", "paid_off": "settled"}


def _now() -> datetime:
    return datetime.now(UTC)


class LoanMessage(Base):
    """One message to a loan's borrower."""

    __tablename__ = "loan_messages"
    __table_args__ = (Index("ix_loan_messages_due", "state", "send_after"),
                      Index("ix_loan_messages_loan", "loan_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(30))
    period: Mapped[int | None] = mapped_column(Integer, nullable=True)
    business_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    plugin: Mapped[str] = mapped_column(String(64))
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    send_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deferrals: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    provider_reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
