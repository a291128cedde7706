"""The example's one table: every webhook it signed, so a receiver that missed one can be sent it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base


class SignedWebhook(Base):
    """A webhook as signed: the event it announces, the exact body and its HMAC-SHA256 signature."""

    __tablename__ = "example_rules_webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    to_state: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
