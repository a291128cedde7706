"""The sandbox bank: the outside party's side of payouts, card debits, refunds and their settlement.

An order is accepted ``pending`` and settles later (:meth:`SandboxBank.settle_due`, run by a query of
the order, the sandbox's settlement command, or a test), ``settle_delay_seconds`` after it was accepted.
Settlement decides the outcome (a planned fault, a frozen or empty card) and writes a signed callback to
the outbox. The same ``request_id`` always names the same order: repeating it returns that order, and
reusing it for a different payment is refused, so one request id never moves money twice.

Failure codes and whether a retry (under a new request id) may succeed:

================== ========= =====================================================
code               retryable meaning
================== ========= =====================================================
BANK_BUSY          yes       the bank's system is busy (injected)
INSUFFICIENT_FUNDS yes       the bound card's balance is below the debit
ACCOUNT_FROZEN     no        the account is frozen
CARD_NOT_BOUND     no        a debit of a card with no binding (协议) at this bank
REFUND_EXCEEDED    no        refunds would exceed what the debit collected
================== ========= =====================================================

Faults are planned in ``sandbox_bank_faults`` (:meth:`SandboxBank.plan_fault`): ``reject`` refuses at
once, ``fail`` fails at settlement, ``timeout`` accepts and commits the order but answers late, as a
bank whose response is lost does (the caller times out; a retry with the same request id finds the order).
A lost answer needs the bank's own database (``database_url``): embedded in the caller's transaction, the
order and the spent fault are rolled back with the caller's timed-out call.

A debit that allows it (``allow_partial``, a batch's setting) collects what a short card holds, or the
share :mod:`.behaviour` decides, and succeeds for that part (``collected``). Cards whose balance the sandbox
does not track are short of funds, and callbacks are lost or sent twice, in the shares the configuration
asks for (:mod:`.behaviour`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.db.base import Base, make_engine, make_session_factory
from core.errors import LoanFactoryError
from core.money import to_decimal
from core.plugins.types import PaymentResult
from core.rounding import FEN
from plugins.sandbox_bank import callbacks
from plugins.sandbox_bank.behaviour import Behaviour
from plugins.sandbox_bank.models import BANK_TABLES, BankCallback, BankCard, BankFault, BankOrder
from plugins.sandbox_bank.statement import StatementLine, write_statement

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = ("payout", "debit", "refund")
RETRYABLE = {"BANK_BUSY": True, "INSUFFICIENT_FUNDS": True, "ACCOUNT_FROZEN": False, "CARD_NOT_BOUND": False,
             "REFUND_EXCEEDED": False}
MESSAGES = {"BANK_BUSY": "银行系统繁忙", "INSUFFICIENT_FUNDS": "余额不足", "ACCOUNT_FROZEN": "账户已冻结",
            "CARD_NOT_BOUND": "银行卡未签约", "REFUND_EXCEEDED": "退款金额超过原交易金额"}


NO_MISBEHAVIOUR = Behaviour()


class UnknownRequestError(LoanFactoryError):
    """The bank has no order with this request id (``field`` is ``request_id``)."""


class RequestIdConflictError(LoanFactoryError):
    """A request id already names a different payment (kind, amount or account); nothing is moved."""


class RefundRefusedError(LoanFactoryError):
    """A refund of an order that is not a settled, successful debit."""


@dataclass(frozen=True)
class Account:
    bank_code: str
    account_number: str
    holder_name: str


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC without an offset, as the bank's tables keep time."""
    if moment.tzinfo is None:
        raise LoanFactoryError("now: the bank's clock must carry a time zone", field="now")
    return moment.astimezone(UTC).replace(tzinfo=None)


class SandboxBank:
    """The bank, working on ``session`` (its own database's, or the caller's in the embedded mode).

    Args:
        session: where the bank's tables are.
        secret: the callback signing secret shared with the merchant.
        now: the bank's clock for this visit (timezone-aware).
        settle_delay: how long after acceptance an order settles.
    """

    def __init__(self, session: Session, *, secret: str, now: datetime, settle_delay: timedelta = timedelta(0),
                 behaviour: Behaviour = NO_MISBEHAVIOUR) -> None:
        self.session = session
        self.secret = secret
        self.now = utc(now)
        self.settle_delay = settle_delay
        self.behaviour = behaviour
        #: seconds a ``timeout`` fault holds this visit's answer back (the caller sleeps them)
        self.late_answer = 0.0

    # --- cards and faults (the sandbox's control panel) ---------------------------------------------

    def bind_card(self, card_number: str, holder_name: str, balance: Decimal | None = None,
                  status: str = "active") -> None:
        """Bind (or update) a card for debits; ``balance`` ``None`` never runs dry."""
        card = self.session.get(BankCard, card_number) or BankCard(card_number=card_number)
        card.holder_name, card.status = holder_name, status
        card.balance = None if balance is None else to_decimal(balance, "balance")
        self.session.add(card)
        self.session.flush()

    def plan_fault(self, kind: str, *, operation: str = "any", code: str = "BANK_BUSY", times: int = 1,
                   account_number: str | None = None, delay_seconds: float = 0.0) -> None:
        """Make the next ``times`` matching requests misbehave (see :class:`BankFault`)."""
        if kind not in ("reject", "fail", "timeout"):
            raise LoanFactoryError(f"kind: {kind!r} is not reject, fail or timeout", field="kind", value=kind)
        self.session.add(BankFault(operation=operation, kind=kind, code=code, remaining=times,
                                   account_number=account_number, delay_seconds=delay_seconds))
        self.session.flush()

    def _take_fault(self, operation: str, account_number: str) -> BankFault | None:
        faults = self.session.scalars(select(BankFault).where(BankFault.remaining > 0).order_by(BankFault.id))
        for fault in faults:
            if fault.operation in (operation, "any") and fault.account_number in (None, account_number):
                fault.remaining -= 1
                return fault
        return None

    # --- orders -------------------------------------------------------------------------------------

    def order(self, request_id: str) -> BankOrder:
        """The order ``request_id``, settled first if it is due.

        Raises:
            UnknownRequestError: the bank never accepted ``request_id``.
        """
        found = self.session.scalars(select(BankOrder).where(BankOrder.request_id == request_id)).first()
        if found is None:
            raise UnknownRequestError(f"request_id: the bank has no request {request_id!r}", field="request_id",
                                      value=request_id)
        if found.status == "pending" and found.settle_at <= self.now:
            self._settle(found)
        return found

    def submit(self, kind: str, request_id: str, amount: Decimal, account: Account, currency: str = "CNY",
               original_request_id: str | None = None, *, allow_partial: bool = False,
               batch_id: str | None = None) -> BankOrder:
        """Accept (or find again) the order ``request_id``.

        Raises:
            RequestIdConflictError: ``request_id`` already names a different payment.
            RefundRefusedError: a refund of something other than a successful debit.
        """
        amount = to_decimal(amount, "amount")
        existing = self.session.scalars(select(BankOrder).where(BankOrder.request_id == request_id)).first()
        if existing is not None:
            same = (existing.kind, existing.amount, existing.account_number, existing.original_request_id) == (
                kind, amount, account.account_number, original_request_id)
            if not same:
                raise RequestIdConflictError(
                    f"request_id: {request_id!r} already names a {existing.kind} of {existing.amount} to "
                    f"{existing.account_number[-4:]}; use a new request id", field="request_id", value=request_id)
            return existing
        if amount <= 0 or amount != amount.quantize(FEN):
            raise LoanFactoryError(f"amount: must be a positive whole number of fen, got {amount}", field="amount",
                                   value=amount)
        fault = self._take_fault(kind, account.account_number)
        order = BankOrder(request_id=request_id, bank_serial=self._serial(request_id), kind=kind, amount=amount,
                          currency=currency, bank_code=account.bank_code, account_number=account.account_number,
                          holder_name=account.holder_name, original_request_id=original_request_id,
                          status="pending", accepted_at=self.now, settle_at=self.now + self.settle_delay,
                          allow_partial=allow_partial and kind == "debit", batch_id=batch_id)
        refusal = self._refusal(kind, account, amount, original_request_id)
        if fault is not None and fault.kind == "reject":
            refusal = fault.code
        if fault is not None and fault.kind == "fail":
            order.planned_failure = fault.code
        if refusal:
            self._finish(order, "failed", refusal)
        self.session.add(order)
        self.session.flush()
        if fault is not None and fault.kind == "timeout":
            self.late_answer = fault.delay_seconds
        return order

    def _serial(self, request_id: str) -> str:
        """The bank's own reference: the acceptance date and a digest of the request id."""
        return f"SB{self.now:%Y%m%d}{hashlib.sha256(request_id.encode('utf-8')).hexdigest()[:12].upper()}"

    def _refusal(self, kind: str, account: Account, amount: Decimal, original_request_id: str | None) -> str:
        card = self.session.get(BankCard, account.account_number)
        if kind == "debit" and card is None:
            return "CARD_NOT_BOUND"
        if card is not None and card.status != "active":
            return "ACCOUNT_FROZEN"
        if kind == "refund":
            original = self.order(original_request_id or "")
            if original.kind != "debit" or original.status != "succeeded":
                raise RefundRefusedError(f"original_request_id: {original.request_id!r} is a {original.status} "
                                         f"{original.kind}, not a successful debit", field="original_request_id")
            refunded = self.session.scalar(
                select(func.coalesce(func.sum(BankOrder.amount), 0)).where(
                    BankOrder.original_request_id == original.request_id, BankOrder.status != "failed"))
            if Decimal(refunded or 0) + amount > original.moved:
                return "REFUND_EXCEEDED"
        return ""

    # --- settlement ---------------------------------------------------------------------------------

    def settle_due(self) -> list[BankOrder]:
        """Settle every pending order whose time has come; returns them."""
        due = self.session.scalars(select(BankOrder).where(BankOrder.status == "pending",
                                                           BankOrder.settle_at <= self.now)
                                   .order_by(BankOrder.id)).all()
        for order in due:
            self._settle(order)
        return list(due)

    def _settle(self, order: BankOrder) -> None:
        failure = order.planned_failure or ""
        card = self.session.get(BankCard, order.account_number)
        if not failure and order.kind == "debit" and card is not None:
            failure = self._collect(order, card)
        if not failure and order.kind == "refund" and card is not None and card.balance is not None:
            card.balance += order.amount
        self._finish(order, "failed" if failure else "succeeded", failure)
        self.session.flush()

    def _local_day(self) -> date:
        return self.now.replace(tzinfo=UTC).astimezone(SHANGHAI).date()

    def _collect(self, order: BankOrder, card: BankCard) -> str:
        """Take a debit's money from ``card`` (all, or part when allowed); the failure code, or ``""``."""
        if card.balance is None:
            if not self.behaviour.short_of_funds(order.account_number, self._local_day()):
                return ""
            part = self.behaviour.partial_amount(order.request_id, order.amount) if order.allow_partial else None
            order.collected = part
            return "" if part is not None else "INSUFFICIENT_FUNDS"
        if card.balance >= order.amount:
            card.balance -= order.amount
            return ""
        if order.allow_partial and card.balance > 0:
            order.collected, card.balance = card.balance, Decimal(0)
            return ""
        return "INSUFFICIENT_FUNDS"

    def _finish(self, order: BankOrder, status: str, failure: str) -> None:
        order.status, order.failure_code = status, failure
        order.failure_message = MESSAGES.get(failure, failure)
        order.settled_at = self.now
        result = self.result(order)
        headers, body = callbacks.sign(self.secret, callbacks.payload(
            order.request_id, order.kind, status, order.moved, order.bank_serial, order.failure_code,
            order.failure_message, result.retryable, result.settled_at), self.now.replace(tzinfo=UTC))
        for _ in range(self.behaviour.callbacks_for(order.request_id) if order.kind == "debit" else 1):
            self.session.add(BankCallback(request_id=order.request_id, headers=headers,
                                          body=body.decode("utf-8"), created_at=self.now))

    def result(self, order: BankOrder) -> PaymentResult:
        """The order as the hooks return it; ``settled_at`` in Asia/Shanghai."""
        settled = order.settled_at.replace(tzinfo=UTC).astimezone(SHANGHAI) if order.settled_at else None
        return PaymentResult(request_id=order.request_id, status=order.status, amount=order.moved,  # type: ignore[arg-type]
                             channel_reference=order.bank_serial, failure_code=order.failure_code,
                             failure_message=order.failure_message,
                             retryable=RETRYABLE.get(order.failure_code, False), settled_at=settled)

    def undelivered_callbacks(self) -> list[BankCallback]:
        """Callbacks not yet delivered, oldest first; mark each with :meth:`mark_delivered` once accepted."""
        return list(self.session.scalars(select(BankCallback).where(BankCallback.delivered_at.is_(None))
                                         .order_by(BankCallback.id)))

    def mark_delivered(self, callback_id: int) -> None:
        """The merchant accepted callback ``callback_id``; it leaves the outbox."""
        callback = self.session.get(BankCallback, callback_id)
        if callback is not None:
            callback.delivered_at = self.now
            self.session.flush()

    # --- the daily reconciliation file --------------------------------------------------------------

    def statement(self, day: date) -> bytes:
        """The 对账文件 for ``day`` (Asia/Shanghai): every order that moved money, as CSV (UTF-8)."""
        start = utc(datetime.combine(day, datetime.min.time(), SHANGHAI))
        orders = self.session.scalars(select(BankOrder).where(
            BankOrder.status == "succeeded", BankOrder.settled_at >= start,
            BankOrder.settled_at < start + timedelta(days=1)).order_by(BankOrder.bank_serial)).all()
        return write_statement(day, [StatementLine(bank_serial=o.bank_serial, request_id=o.request_id, kind=o.kind,
                                                   amount=o.moved, currency=o.currency) for o in orders])


_ENGINES: dict[str, Engine] = {}


@contextmanager
def open_bank(config: Mapping[str, Any], now: datetime, session: Session | None) -> Iterator[SandboxBank]:
    """The bank for one visit.

    With ``config["database_url"]`` the bank works in its own database and commits when the visit ends
    (even if the caller later rolls back: the bank is another party). Without it the bank lives in the
    caller's ``session`` (the embedded default) and shares the caller's transaction.
    """
    secret = callbacks.secret_of(config)
    delay = timedelta(seconds=float(config.get("settle_delay_seconds", 0)))
    behaviour = Behaviour.of(config)
    url = config.get("database_url")
    if not url:
        if session is None:
            raise LoanFactoryError("sandbox_bank: no database_url configured and the caller passed no session",
                                   field="database_url")
        yield SandboxBank(session, secret=secret, now=now, settle_delay=delay, behaviour=behaviour)
        return
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
        Base.metadata.create_all(engine, tables=[Base.metadata.tables[name] for name in BANK_TABLES])
    with make_session_factory(engine)() as own, own.begin():
        yield SandboxBank(own, secret=secret, now=now, settle_delay=delay, behaviour=behaviour)
