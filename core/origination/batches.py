"""Batch disbursement (批量放款): many signed loans paid out in one bank file, and the bank's per-line results.

:func:`build_batch` takes the applications to pay out, checks each one as a single payout would be checked
(signed or a failed payout to retry, the customer's credit limits before the money leaves, a payout account)
and writes, for each that passes, a payout order (``LF-BATCH-<batch>-<line>``, on the payment channel
``channel``) and a line of the bank file; each that does not is reported on its own line with the reason,
and the others go ahead. The application moves to ``disbursing`` as with a single payout. The file is CSV
(UTF-8, a header, one payout a line: ``line, request_id, bank_code, account_number, holder_name, amount,
memo``); its SHA-256 is kept with the batch. The file carries account numbers: it goes to the bank over the
bank's channel and is not stored.

:func:`apply_results` reads the bank's result file (``line, request_id, status, amount, settled_at,
reference, failure_code, failure_message``; ``status`` ``succeeded`` or ``failed``; ``settled_at`` ISO 8601
with its offset) and applies each line exactly as the payment channel's callback would
(:func:`core.origination.booking.complete_disbursement`): a success books the loan on the settlement date, a
failure leaves the application ``disbursement_failed`` (retryable), an amount or date that does not fit the
order is refused and flagged for reconciliation, a request id that is not one of the batch's is reported. A
line applied twice changes nothing. Every line gets its result; nothing here commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.applications.models import Application
from core.db.base import Amount, Base
from core.errors import InvalidArgumentError, LoanFactoryError
from core.ledger.accounts import cash_clearing
from core.origination.booking import DisbursementOrder, PayoutAccount, complete_disbursement
from core.origination.errors import CallbackMismatchError
from core.origination.limits import check_before_payout
from core.origination.published import offer_of_version
from core.origination.settlement import CALLBACK_TOLERANCE_DAYS
from core.plugins.types import PaymentResult
from core.states import APPLICATION_STATES

BANK_FILE_COLUMNS = ("line", "request_id", "bank_code", "account_number", "holder_name", "amount", "memo")
RESULT_COLUMNS = ("line", "request_id", "status", "amount", "settled_at", "reference", "failure_code",
                  "failure_message")


class DisbursementBatch(Base):
    """One bank file of payouts: who made it, on which channel, how many lines, their total and the file's hash."""

    __tablename__ = "disbursement_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(60))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    sha256: Mapped[str | None] = mapped_column(String(64))


class DisbursementBatchLine(Base):
    """A payout order's line in its batch's file."""

    __tablename__ = "disbursement_batch_lines"

    batch_id: Mapped[int] = mapped_column(ForeignKey("disbursement_batches.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("disbursement_orders.id"), unique=True)


@dataclass(frozen=True)
class LineResult:
    """What happened to one line: ``included``/``refused`` when the file is built, ``booked``, ``failed``,
    ``mismatch``, ``unknown``, ``invalid`` or ``unchanged`` when results are applied."""

    line: int
    outcome: str
    detail: str = ""
    application_id: int | None = None
    request_id: str | None = None
    loan_id: int | None = None


@dataclass(frozen=True)
class BuiltBatch:
    """A batch, its bank file and the result of each application asked for."""

    batch: DisbursementBatch
    content: bytes
    results: list[LineResult]


def _refusal(application: Application | None, application_id: int) -> str | None:
    if application is None:
        return f"application {application_id} not found"
    if application.state not in ("contract_signed", "disbursement_failed"):
        return f"application {application_id} is {application.state}, not signed for payout"
    return None


def build_batch(session: Session, application_ids: list[int], *, channel: str, actor: str,
                now: datetime | None = None) -> BuiltBatch:
    """Write the payout orders and the bank file for ``application_ids`` (module docstring).

    Raises:
        InvalidArgumentError: ``channel`` is not a channel code, or no application id is given.
    """
    cash_clearing(channel)
    if not application_ids:
        raise InvalidArgumentError("application_ids: name at least one application", field="application_ids")
    now = now or datetime.now(UTC)
    batch = DisbursementBatch(channel=channel, created_by=actor, created_at=now, lines=0, total=Decimal(0))
    session.add(batch)
    session.flush()
    results: list[LineResult] = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BANK_FILE_COLUMNS)
    for position, application_id in enumerate(application_ids, start=1):
        application = session.get(Application, application_id, with_for_update=True)
        reason = _refusal(application, application_id)
        payout = None if application is None else session.get(PayoutAccount, application.id)
        if reason is None and payout is None:
            reason = f"application {application_id} has no payout account"
        if reason is None:
            assert application is not None
            try:
                check_before_payout(session, application,
                                    offer_of_version(session, application.product_version_id).product.credit_limits,
                                    now)
            except LoanFactoryError as error:
                reason = str(error)
        if reason is not None:
            results.append(LineResult(position, "refused", reason, application_id))
            continue
        assert application is not None and payout is not None
        batch.lines += 1
        request_id = f"LF-BATCH-{batch.id}-{batch.lines}"
        order = DisbursementOrder(application_id=application.id, request_id=request_id, plugin=channel,
                                  amount=application.amount, status="pending", created_at=now)
        session.add(order)
        session.flush()
        session.add(DisbursementBatchLine(batch_id=batch.id, line=batch.lines, order_id=order.id))
        APPLICATION_STATES.transition(session, application, "disbursing", actor=actor, reason=request_id)
        batch.total += application.amount
        writer.writerow((batch.lines, request_id, payout.bank_code, payout.account_number, payout.holder_name,
                         f"{application.amount:.2f}", f"loan for application {application.id}"))
        results.append(LineResult(position, "included", "", application.id, request_id))
    content = buffer.getvalue().encode("utf-8")
    batch.sha256 = hashlib.sha256(content).hexdigest()
    session.flush()
    return BuiltBatch(batch, content, results)


def _result_of(row: dict[str, str]) -> PaymentResult:
    """The payment result a line of the bank's file states.

    Raises:
        InvalidArgumentError: a field does not parse (named).
    """
    status = row.get("status", "")
    if status not in ("succeeded", "failed"):
        raise InvalidArgumentError("status: succeeded or failed", field="status", value=status)
    try:
        amount = Decimal(row.get("amount", ""))
    except InvalidOperation:
        raise InvalidArgumentError("amount: not a decimal amount", field="amount", value=row.get("amount")) from None
    settled = None
    if status == "succeeded":
        try:
            settled = datetime.fromisoformat(row.get("settled_at", ""))
        except ValueError:
            raise InvalidArgumentError("settled_at: an ISO 8601 time", field="settled_at") from None
        if settled.utcoffset() is None:
            raise InvalidArgumentError("settled_at: with its offset", field="settled_at")
    return PaymentResult(request_id=row["request_id"], status=status, amount=amount,  # type: ignore[arg-type]
                         channel_reference=row.get("reference", ""), failure_code=row.get("failure_code", ""),
                         failure_message=row.get("failure_message", ""), settled_at=settled)


def apply_results(session: Session, batch_id: int, content: bytes, *, actor: str, today: date,
                  tolerance_days: int = CALLBACK_TOLERANCE_DAYS) -> list[LineResult]:
    """Apply the bank's result file of batch ``batch_id``, line by line (module docstring).

    Raises:
        InvalidArgumentError: no such batch, or the file is not the result file's CSV (its header).
    """
    if session.get(DisbursementBatch, batch_id) is None:
        raise InvalidArgumentError(f"batch: no disbursement batch {batch_id}", field="batch", value=batch_id)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    if tuple(reader.fieldnames or ()) != RESULT_COLUMNS:
        raise InvalidArgumentError(f"file: the header must be {','.join(RESULT_COLUMNS)}", field="file")
    orders = {order.request_id: order for order in session.scalars(
        select(DisbursementOrder).join(DisbursementBatchLine, DisbursementBatchLine.order_id == DisbursementOrder.id)
        .where(DisbursementBatchLine.batch_id == batch_id).with_for_update(of=DisbursementOrder))}
    results = []
    for number, row in enumerate(reader, start=1):
        request_id = row.get("request_id") or ""
        order = orders.get(request_id)
        if order is None:
            results.append(LineResult(number, "unknown", f"{request_id!r} is not an order of batch {batch_id}",
                                      request_id=request_id))
            continue
        try:
            result = _result_of(row)
        except InvalidArgumentError as error:
            results.append(LineResult(number, "invalid", str(error), order.application_id, request_id))
            continue
        was = order.status
        try:
            loan = complete_disbursement(session, order, result, actor=actor, today=today,
                                         tolerance_days=tolerance_days)
        except CallbackMismatchError as error:  # flagged on the order for reconciliation, nothing booked
            results.append(LineResult(number, "mismatch", str(error), order.application_id, request_id))
            continue
        outcome = "unchanged" if was != "pending" else ("booked" if order.status == "succeeded" else "failed")
        detail = order.failure or "" if outcome == "failed" else ""
        results.append(LineResult(number, outcome, detail, order.application_id, request_id,
                                  loan.id if loan is not None else None))
    return results
