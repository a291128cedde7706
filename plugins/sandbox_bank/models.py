"""The sandbox bank's own books: payment orders, bound cards, planned faults, and the callback outbox.

These tables belong to the bank, not to the lender: they stand for the state an outside bank keeps on
its side. They are declared on ``core.db.base.Base`` so the embedded default (the bank living in the system's
database, see :mod:`plugins.sandbox_bank.bank`) has them; with ``database_url`` configured the bank
creates them in a database of its own and commits there, independently of the caller's transaction.
Times are UTC without an offset (SQLite keeps no offsets). Holders' names and the orders' account numbers are
encrypted at rest (:mod:`core.customers.pii`): in the embedded default this is the lender's database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from core.customers.pii import EncryptedString
from core.db.base import Amount, Base


class BankOrder(Base):
    """One payout, debit or refund as the bank sees it; ``request_id`` is the merchant's idempotency key."""

    __tablename__ = "sandbox_bank_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(120), unique=True)
    bank_serial: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    bank_code: Mapped[str] = mapped_column(String(20))
    account_number: Mapped[str] = mapped_column(EncryptedString("sandbox_bank_orders.account_number"))
    holder_name: Mapped[str] = mapped_column(EncryptedString("sandbox_bank_orders.holder_name"))
    original_request_id: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12))
    failure_code: Mapped[str] = mapped_column(String(40), default="")
    failure_message: Mapped[str] = mapped_column(String(200), default="")
    planned_failure: Mapped[str | None] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(DateTime)
    settle_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: a debit that may collect less than ``amount`` when the card holds less (批量代扣's partial debits)
    allow_partial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: what a succeeded debit actually collected when it was less than ``amount``; ``None``: all of it
    collected: Mapped[Decimal | None] = mapped_column(Amount, nullable=True)
    #: the merchant's batch the order came in (``None``: sent alone)
    batch_id: Mapped[str | None] = mapped_column(String(60), nullable=True)

    @property
    def moved(self) -> Decimal:
        """The money the order moved (or would move): the collected part of a partial debit, else the amount."""
        return self.amount if self.collected is None else self.collected


class BankCard(Base):
    """A card bound for debits (协议支付); ``balance`` ``None`` means the sandbox never runs it dry."""

    __tablename__ = "sandbox_bank_cards"

    card_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder_name: Mapped[str] = mapped_column(EncryptedString("sandbox_bank_cards.holder_name"))
    status: Mapped[str] = mapped_column(String(12), default="active")
    balance: Mapped[Decimal | None] = mapped_column(Amount)


class BankFault(Base):
    """A planned fault: the next ``remaining`` matching requests misbehave as ``kind`` says.

    ``kind``: ``reject`` (refused at once with ``code``), ``fail`` (accepted, then fails at settlement with
    ``code``) or ``timeout`` (accepted and committed, but the answer comes ``delay_seconds`` late).
    ``operation`` is ``payout``, ``debit``, ``refund`` or ``any``; ``account_number`` ``None`` matches all.
    """

    __tablename__ = "sandbox_bank_faults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(40), default="")
    remaining: Mapped[int] = mapped_column(Integer, default=1)
    delay_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class BankCallback(Base):
    """A signed result notification the bank sends to the merchant (the outbox)."""

    __tablename__ = "sandbox_bank_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(120), index=True)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


#: the bank's table names, for creating them in a database of the bank's own
BANK_TABLES = tuple(model.__tablename__ for model in (BankOrder, BankCard, BankFault, BankCallback))
