"""The application table: a request for a loan, from draft to disbursed.

An :class:`Application` is made by an individual customer (``customer_id``); for a product that lends to
enterprises it also names the borrowing enterprise (``enterprise_id``) and the individual is its legal
representative. It names the product by code and by the id of the product version it was priced
under (``product_version_id`` is a plain integer: the product tables belong to the products module and
a version, once published, never changes). Its ``state`` moves only through
:data:`core.states.APPLICATION_STATES`; ``review_step`` says where an application under review is
(``eligibility``, ``bureau``, ``scoring``, ``approval``, ``manual_review``). Scoring and the decision are
kept as the engine produced them: ``score``, ``grade``, ``reason_codes`` and the ``decision`` document (the
outcome, refusal reasons, the evaluation context, plugin errors, manual decisions). An approved application
also keeps the offer made to it in ``offer``: written once at approval and read back only through
:class:`core.origination.approved.ApprovedOffer`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from core.customers.enterprises import Enterprise
from core.customers.parties import Customer
from core.db.base import Amount, Base

#: the tables an application refers to, imported so that creating the metadata creates them too
REFERENCED = (Customer, Enterprise)


class Application(Base):
    """A loan application; create it with ``APPLICATION_STATES.start(session, application, actor=...)`` (or
    ``start_written``)."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_applications_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    #: the borrowing enterprise of an enterprise product (``customer_id`` is then its legal representative)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    channel: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(120))
    product_code: Mapped[str] = mapped_column(String(60))
    product_version_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Amount)
    term: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40))
    collateral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consents: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(40), default="draft")
    review_step: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(20))
    reason_codes: Mapped[list[str] | None] = mapped_column(JSON)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the approved offer as :meth:`core.origination.approved.ApprovedOffer.to_json` stores it
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
