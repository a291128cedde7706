"""The credit-line tables: lines, the customer's total limit, channel sub-limits, drawdowns and line events.

A :class:`CreditLine` is one granted limit of one customer under one credit-line product version (the
product line's limit); :class:`CustomerLimit` is the customer's total limit across every line (one row per
customer, the row every drawdown of theirs locks first); :class:`ChannelSubLimit` caps what one channel may
draw on a line. A :class:`Drawdown` ties a line to the application its loan is booked from: what a drawdown
uses of the limits is derived from that application and its loan (:mod:`core.credit_lines.limits`), so every
way principal is repaid (repayment, prepayment, reversal) restores a revolving line without a counter to
keep in step. :class:`LineEvent` is the audit trail of a line's life: every grant, freeze, unfreeze,
adjustment, renewal, expiry, closure and drawdown, with who, when, why and the limit before and after.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.applications.models import Application
from core.customers.parties import Customer
from core.db.base import Amount, Base
from core.loans.models import Loan, Rate

#: the tables a line refers to, imported so that creating the metadata creates them too
REFERENCED = (Application, Customer, Loan)


class CreditLine(Base):
    """A granted limit; ``state`` moves only through :data:`core.credit_lines.lifecycle.LINE_STATES`."""

    __tablename__ = "credit_lines"
    __table_args__ = (Index("ix_credit_lines_state_expiry", "state", "expires_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(60))
    product_code: Mapped[str] = mapped_column(String(60))
    product_version_id: Mapped[int] = mapped_column(Integer)
    limit: Mapped[Decimal] = mapped_column(Amount)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    revolving: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(20), default="active")
    granted_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerLimit(Base):
    """A customer's total limit across all their lines (客户总额度)."""

    __tablename__ = "customer_limits"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    total_limit: Mapped[Decimal] = mapped_column(Amount)


class ChannelSubLimit(Base):
    """The most one channel may have drawn on a line at a time (渠道子额度)."""

    __tablename__ = "credit_line_channel_limits"

    line_id: Mapped[int] = mapped_column(ForeignKey("credit_lines.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(60), primary_key=True)
    limit: Mapped[Decimal] = mapped_column(Amount)


class Drawdown(Base):
    """One drawdown: the line it uses, the channel that asked, and the application its loan is booked from."""

    __tablename__ = "credit_line_drawdowns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal] = mapped_column(Amount)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LineEvent(Base):
    """One event in a line's life, as the audit trail and the webhooks see it."""

    __tablename__ = "credit_line_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    limit_before: Mapped[Decimal | None] = mapped_column(Amount)
    limit_after: Mapped[Decimal] = mapped_column(Amount)
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
