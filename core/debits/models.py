"""The debit tables: the borrower's authorisation (代扣授权) and the debit instructions made under it.

:class:`DebitAuthorisation` is captured when the borrower signs the contract that states it
(:mod:`core.debits.authorisations`): the account it lets the lender debit (encrypted at rest), the consent's
wording as printed, the contract's SHA-256 it was given with, when and through which channel. A revoked one
keeps its row (``revoked_at``, ``revoked_by``, ``revoke_reason``) and stops every debit after it.

:class:`DebitInstruction` is one attempt at one installment (unique ``(loan_id, period, attempt)``, and its
``request_id`` is the payment channel's idempotency key), so a due run made twice, or a batch sent twice,
never asks for the same money twice. Its state moves::

    created -> sending -> sent -> succeeded | partial | failed
    created -> cancelled                 (the installment was settled before the batch left)
    skipped | stopped                    (born so: no live authorisation, by ``on_authorisation_missing``)

``sending`` is taken in a transaction of its own before the batch leaves; an instruction still ``sending``
after the lease (a worker died mid-batch) is sent again under the same request id, which the channel
answers with the order it already has. The final moves are recorded as ``debit`` state transitions
(:data:`core.states.DEBIT_STATES`), which make the ``debit.succeeded`` / ``debit.failed`` webhooks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.customers.pii import EncryptedString
from core.db.base import Amount, Base

#: an instruction waiting for the channel's answer
OPEN = ("created", "sending", "sent")
#: an instruction whose outcome is known (nothing changes it any more)
FINAL = ("succeeded", "partial", "failed", "cancelled", "skipped", "stopped")
#: what the channel answered
ANSWERED = ("succeeded", "partial", "failed")
NO_AUTHORISATION = "NO_AUTHORISATION"


def _now() -> datetime:
    return datetime.now(UTC)


class DebitAuthorisation(Base):
    """The borrower's authorisation to debit one account for the loan of one application."""

    __tablename__ = "debit_authorisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    bank_code: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str] = mapped_column(EncryptedString("debit_authorisations.account_number"))
    holder_name: Mapped[str] = mapped_column(EncryptedString("debit_authorisations.holder_name"))
    #: the account's last four digits, for screens and the contract (the rest is masked)
    account_tail: Mapped[str] = mapped_column(String(4))
    consent_text: Mapped[str] = mapped_column(Text)
    contract_sha256: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(20))
    granted_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class DebitInstruction(Base):
    """One debit attempt of one installment, as sent to the loan's payment channel."""

    __tablename__ = "debit_instructions"
    __table_args__ = (
        UniqueConstraint("loan_id", "period", "attempt", name="uq_debit_instructions_attempt"),
        Index("ix_debit_instructions_state", "state", "plugin"),
        Index("ix_debit_instructions_day", "scheduled_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    plugin: Mapped[str] = mapped_column(String(64))
    product_version_id: Mapped[int] = mapped_column(Integer)
    scheduled_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount)
    collected: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    state: Mapped[str] = mapped_column(String(20), default="created")
    failure_code: Mapped[str] = mapped_column(String(40), default="")
    failure_message: Mapped[str] = mapped_column(String(200), default="")
    retryable: Mapped[bool | None] = mapped_column(nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    channel_reference: Mapped[str] = mapped_column(String(60), default="")
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def aware(moment: datetime) -> datetime:
    """``moment`` with its offset (SQLite hands a timestamp back in UTC without one)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def request_id_of(loan_id: int, period: int, attempt: int) -> str:
    """The channel's idempotency key of an attempt: the same attempt always has the same one."""
    return f"LF-DEBIT-{loan_id}-{period}-{attempt}"
