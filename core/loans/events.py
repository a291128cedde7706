"""Servicing's own tables: the loan's event log and its end-of-day state.

:class:`ServicingEvent` records every servicing operation on a loan (disbursement, repayment,
prepayment, waiver, suspense application or refund, write-off) with the inputs needed to execute it
again: the reversal of a repayment replays the loan's later events from this log, in ``id`` order, and
``snapshot`` (the loan, its installments and its servicing state as they were just before the event) is
where the replay starts from. ``generation`` counts how many times the event has been executed, so the
replayed postings get idempotency keys of their own.

:class:`LoanServicingState` holds, per loan, what end-of-day needs beyond the installments: the last day
penalty was charged for and the replay generation of the loan's end-of-day postings (the fraction of a fen
of penalty carried to the next day is kept per installment, in ``LoanInstallment.penalty_carry``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Amount, Base


class ServicingEvent(Base):
    """One servicing operation on a loan; ``status`` is ``posted`` or ``reversed``."""

    __tablename__ = "servicing_events"
    __table_args__ = (Index("ix_servicing_events_loan", "loan_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(30))
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    channel: Mapped[str | None] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_entry_id: Mapped[int | None] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="posted")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoanServicingState(Base):
    """End-of-day state of one loan beyond its installments (absent until first needed)."""

    __tablename__ = "loan_servicing_states"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    penalty_through: Mapped[date | None] = mapped_column(Date)
    generation: Mapped[int] = mapped_column(Integer, default=0)
