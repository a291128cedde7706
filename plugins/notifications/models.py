"""The sandbox gateway's outbox and delivery records.

A message is stored once per ``request_id`` (sending again returns the first receipt). Recipients are
kept masked, with a SHA-256 hash to find a person's messages: phone numbers and e-mail addresses are
personal information and the outbox is no place for them in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base


class OutboxMessage(Base):
    """A message handed to the sandbox gateway."""

    __tablename__ = "sandbox_notification_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    provider_reference: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient_masked: Mapped[str] = mapped_column(String(80))
    recipient_hash: Mapped[str] = mapped_column(String(64), index=True)
    template: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deliveries: Mapped[list[DeliveryRecord]] = relationship(back_populates="message",
                                                            order_by="DeliveryRecord.id")


class DeliveryRecord(Base):
    """One status report from the gateway about a message (``sent``, then ``delivered`` or ``failed``)."""

    __tablename__ = "sandbox_notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sandbox_notification_outbox.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message: Mapped[OutboxMessage] = relationship(back_populates="deliveries")
