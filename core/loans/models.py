"""The loan and installment tables: the contract as booked, and where each installment stands.

A :class:`Loan` is created at disbursement from an approved application. It keeps the contract it was booked
under (:class:`~core.loans.contract.Contract`: the schedule's terms, the penalty, allocation and prepayment
rules) in ``terms``, so that servicing never reads a product table again. ``principal``, ``annual_rate``,
``method`` and ``rounding`` are columns of that contract's values for queries (the end-of-day's SQL, lists):
they are written from it whenever it is set and refused when set to anything else, so the contract is their
one source. ``state`` moves only through
:data:`core.states.LOAN_STATES`; ``days_past_due``, ``bucket`` (M0..M4+) and ``five_tier`` (五级分类) are
maintained by end-of-day, and so is ``non_accrual_since`` (:mod:`core.loans.nonaccrual`).
Money lives in the ledger: the amounts on :class:`LoanInstallment` are the
contractual split and what has been allocated to it, the receivable balances come from
:func:`core.ledger.loan_balances` or the ``loan_balances`` projection.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, validates

from core.applications.models import Application
from core.customers.parties import Customer
from core.db.base import Amount, Base, Fraction, keep_pages_free
from core.loans.contract import Contract
from core.loans.errors import StoredContractError

#: the tables a loan refers to, imported so that creating the metadata creates them too
REFERENCED = (Application, Customer)


class Rate(Amount):
    """An exact rate: ``NUMERIC(20, 10)`` on PostgreSQL (Amount's 4 places would cut 0.04875), text elsewhere."""

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(20, 10, asdecimal=True))
        return super().load_dialect_impl(dialect)


class FiveTier(StrEnum):
    """The regulator's five-tier loan classification (五级分类)."""

    NORMAL = "normal"  # 正常
    SPECIAL_MENTION = "special_mention"  # 关注
    SUBSTANDARD = "substandard"  # 次级
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 损失


class InstallmentStatus(StrEnum):
    """Where an installment stands: not yet due, due today, past due, settled, or written off."""

    PENDING = "pending"
    DUE = "due"
    OVERDUE = "overdue"
    PAID = "paid"
    WRITTEN_OFF = "written_off"


#: the loan's columns that hold a value of its contract, for queries
CONTRACT_COLUMNS = ("principal", "annual_rate", "method", "rounding")


def contract_columns(contract: Contract) -> dict[str, object]:
    """The values of :data:`CONTRACT_COLUMNS` for ``contract``."""
    terms = contract.terms
    return {"principal": terms.principal, "annual_rate": terms.annual_rate, "method": terms.method.value,
            "rounding": terms.rounding.value}


class Loan(Base):
    """A disbursed loan; create it with ``LOAN_STATES.start(session, loan, actor=...)``."""

    __tablename__ = "loans"
    __table_args__ = (Index("ix_loans_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(60))
    product_version_id: Mapped[int] = mapped_column(Integer)
    #: the contract, as :meth:`Contract.to_json` stores it (set it through :attr:`contract`)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the schedule's rounding mode, from the contract: the end-of-day's SQL path reads it for every loan
    #: every day, and parsing ``terms`` for it would cost more than that day's accrual arithmetic
    rounding: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    principal: Mapped[Decimal] = mapped_column(Amount)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    method: Mapped[str] = mapped_column(String(40))
    payment_channel: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(40), default="active")
    disbursed_on: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    five_tier: Mapped[str] = mapped_column(String(20), default=FiveTier.NORMAL.value)
    #: the date the loan went on non-accrual (``None``: on accrual), kept by end-of-day (core.loans.nonaccrual)
    non_accrual_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def contract(self) -> Contract:
        """The contract the loan is serviced under, parsed from ``terms``.

        Raises:
            StoredContractError: the stored contract lacks a key or holds one that does not parse.
        """
        return Contract.from_json(self.terms)

    @contract.setter
    def contract(self, contract: Contract) -> None:
        self.terms = contract.to_json()

    @validates("terms")
    def _set_contract(self, _key: str, terms: dict[str, Any]) -> dict[str, Any]:
        """Any contract set is parsed whole (a damaged one is refused) and the columns of its values follow."""
        contract = Contract.from_json(terms)
        self._contract_columns = contract_columns(contract)
        for name, value in self._contract_columns.items():
            setattr(self, name, value)
        return contract.to_json()

    @validates(*CONTRACT_COLUMNS)
    def _check_contract_column(self, key: str, value: object) -> object:
        """A column of the contract's values takes only the contract's value: set the contract instead."""
        columns = getattr(self, "_contract_columns", None)
        if columns is None and self.terms is not None:
            columns = contract_columns(Contract.from_json(self.terms))
        if columns is None or columns[key] != value:
            raise StoredContractError(f"{key}: a loan's {key} is its contract's; set Loan.contract instead",
                                      field=key, value=value)
        return value


class LoanInstallment(Base):
    """One period of a loan's schedule: contractual amounts, what was paid or waived, and its status.

    ``interest_accrued`` carries the daily accrual of the period to 4 places (so the accruals of a period
    add up exactly to ``interest``); ``penalty`` is the penalty interest charged so far on this installment,
    in whole fen, and ``penalty_carry`` the fraction of a fen of it carried to the next end-of-day.
    """

    __tablename__ = "loan_installments"
    __table_args__ = (
        UniqueConstraint("loan_id", "period"),
        Index("ix_loan_installments_due", "due_date", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer)
    start: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Amount)
    interest: Mapped[Decimal] = mapped_column(Amount)
    fee: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    penalty: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    interest_accrued: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_principal: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_interest: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_fee: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    paid_penalty: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    waived_penalty: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(20), default=InstallmentStatus.PENDING.value)
    paid_on: Mapped[date | None] = mapped_column(Date)
    penalty_carry: Mapped[Decimal] = mapped_column(Fraction, default=Decimal(0), server_default="0")
    #: the late fees charged on this installment (part of ``fee``; non-zero once charged, :mod:`core.loans.late_fees`)
    late_fee: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0), server_default="0")


#: the end-of-day rewrites each loan's current installment every day, one row of the loan's several: 30% of
#: each page free keeps those updates HOT (a page of one-period loans, all rewritten, spills the rest)
INSTALLMENT_FILLFACTOR = 70
keep_pages_free(LoanInstallment.__table__, INSTALLMENT_FILLFACTOR)  # type: ignore[arg-type]
