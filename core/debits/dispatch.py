"""Handing debit instructions to the payment channel in batches (批量代扣), and asking after silent ones.

A batch goes out in two transactions, the caller committing each:

1. :func:`claim_batch` takes up to ``size`` instructions of one channel and product version that are
   ``created`` (or ``sending`` for longer than :data:`LEASE`: their worker died mid-batch), ``FOR UPDATE SKIP
   LOCKED`` so two workers take different ones, and marks them ``sending`` with the batch's id. An
   instruction whose installment was settled meanwhile is ``cancelled``; one whose authorisation was
   revoked meanwhile is ``skipped``.
2. :func:`send_batch` calls the plugin's ``payment_debit_batch`` and applies each immediate answer
   (:func:`core.debits.results.apply_result`; usually ``pending`` -> ``sent``).

A worker killed between the two leaves its instructions ``sending``; the next run, after the lease, sends
them again under the same request ids, and the channel, idempotent by request id, answers with the debits it
already made: nothing is debited twice. A plugin that fails leaves them ``sending`` the same way.
:func:`query_silent` asks ``payment_query`` about every instruction ``sent`` for longer than the product's
``query_after_minutes`` and applies the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.debits.models import NO_AUTHORISATION, DebitAuthorisation, DebitInstruction, aware
from core.debits.planning import UNSETTLED
from core.debits.results import apply_result
from core.loans.models import Loan, LoanInstallment
from core.loans.repayment import OVERPAYMENT_MULTIPLE
from core.plugins.manager import PluginManager
from core.plugins.types import BankAccount, DebitBatch, PaymentRequest, PaymentResult, PluginFailure
from core.states import DEBIT_STATES

#: how long an instruction stays with the worker that took it before another may send it again
LEASE = timedelta(minutes=10)
ACTOR = "debit-run"
#: the least time a batch is given per debit it carries
SECONDS_PER_DEBIT = 0.05


@dataclass(frozen=True)
class Claimed:
    """A batch taken for sending: its id, channel, instruction ids and whether partial debits are accepted."""

    batch_id: str
    plugin: str
    instruction_ids: tuple[int, ...]
    allow_partial: bool


def sendable(session: Session) -> list[tuple[str, int]]:
    """The ``(plugin, product_version_id)`` pairs with instructions waiting to be sent."""
    return [(str(p), int(v)) for p, v in session.execute(
        select(DebitInstruction.plugin, DebitInstruction.product_version_id)
        .where(DebitInstruction.state.in_(("created", "sending"))).distinct()).all()]


def claim_batch(session: Session, *, plugin: str, version_id: int, size: int, allow_partial: bool,
                now: datetime) -> Claimed | None:
    """Take the next batch (see the module's step 1); ``None`` when nothing is waiting."""
    now = now.astimezone(UTC)  # SQLite keeps no offset: every moment is stored in UTC
    rows = list(session.scalars(
        select(DebitInstruction)
        .where(DebitInstruction.plugin == plugin, DebitInstruction.product_version_id == version_id,
               or_(DebitInstruction.state == "created",
                   and_(DebitInstruction.state == "sending", DebitInstruction.sent_at < now - LEASE)))
        .order_by(DebitInstruction.id).limit(size).with_for_update(skip_locked=True)))
    if not rows:
        return None
    settled = _settled(session, rows)
    live = _live_authorisations(session, {r.loan_id for r in rows})
    batch_id = f"DB{now:%Y%m%d%H%M%S}-{rows[0].id}"
    taken = []
    for row in rows:
        if row.state == "created" and (row.loan_id, row.period) in settled:
            DEBIT_STATES.transition(session, row, "cancelled", actor=ACTOR, reason="installment settled")
        elif row.state == "created" and row.loan_id not in live:
            row.failure_code, row.failure_message, row.answered_at = NO_AUTHORISATION, "代扣授权已撤销", now
            DEBIT_STATES.transition(session, row, "skipped", actor=ACTOR, reason=NO_AUTHORISATION)
        else:
            row.state, row.batch_id, row.sent_at = "sending", batch_id, now
            taken.append(row.id)
    session.flush()
    return Claimed(batch_id, plugin, tuple(taken), allow_partial)


def _settled(session: Session, rows: list[DebitInstruction]) -> set[tuple[int, int]]:
    loan_ids = {r.loan_id for r in rows}
    unsettled = set(session.execute(select(LoanInstallment.loan_id, LoanInstallment.period).where(
        LoanInstallment.loan_id.in_(loan_ids), LoanInstallment.status.in_(UNSETTLED))).tuples())
    return {(r.loan_id, r.period) for r in rows} - unsettled


def _live_authorisations(session: Session, loan_ids: set[int]) -> dict[int, DebitAuthorisation]:
    found = session.execute(select(Loan.id, DebitAuthorisation).join(
        DebitAuthorisation, DebitAuthorisation.application_id == Loan.application_id).where(
        Loan.id.in_(loan_ids), DebitAuthorisation.revoked_at.is_(None)))
    return {loan_id: authorisation for loan_id, authorisation in found}


def send_batch(session: Session, plugins: PluginManager, claimed: Claimed, *, today: date, now: datetime,
               overpayment_multiple: Decimal = OVERPAYMENT_MULTIPLE) -> int:
    """Send a claimed batch and apply the immediate answers; returns how many the channel accepted.

    Raises:
        PluginFailure: the channel failed; the batch stays ``sending`` for the next run to send again.
    """
    if not claimed.instruction_ids:
        return 0
    rows = list(session.scalars(select(DebitInstruction).where(DebitInstruction.id.in_(claimed.instruction_ids))
                                .order_by(DebitInstruction.id)))
    accounts = _live_authorisations(session, {r.loan_id for r in rows})
    requests = tuple(PaymentRequest(
        request_id=r.request_id, amount=r.amount, loan_id=r.loan_id, memo=f"loan {r.loan_id} installment {r.period}",
        account=BankAccount(accounts[r.loan_id].bank_code, accounts[r.loan_id].account_number,
                            accounts[r.loan_id].holder_name)) for r in rows if r.loan_id in accounts)
    results: list[PaymentResult] = plugins.call(
        claimed.plugin, "payment_debit_batch", session=session, subject=f"debit-batch:{claimed.batch_id}",
        timeout=batch_timeout(plugins, claimed.plugin, len(requests)),
        batch=DebitBatch(batch_id=claimed.batch_id, requests=requests, allow_partial=claimed.allow_partial))
    by_request = {r.request_id: r for r in results}
    accepted = 0
    for row in rows:
        result = by_request.get(row.request_id)
        if result is None:
            continue  # not answered: stays ``sending`` and is sent again after the lease
        apply_result(session, row, result, today=today, actor=f"payment:{claimed.plugin}",
                     overpayment_multiple=overpayment_multiple, now=now)
        accepted += result.status != "failed"
    return accepted


def batch_timeout(plugins: PluginManager, plugin: str, size: int) -> float:
    """The plugin's timeout for ``payment_debit_batch`` (``PLUGINS_TIMEOUTS``), and at least
    :data:`SECONDS_PER_DEBIT` for each debit of the batch: a bank takes a batch file's rows one by one."""
    return max(plugins.settings.timeout_for(plugin, "payment_debit_batch"), SECONDS_PER_DEBIT * size)


def query_silent(session: Session, plugins: PluginManager, *, wait: dict[int, timedelta], today: date,
                 now: datetime, limit: int = 1000,
                 overpayment_multiple: Decimal = OVERPAYMENT_MULTIPLE) -> int:
    """Ask the channel about instructions ``sent`` with no answer for longer than their product's wait
    (``wait``: product version id -> ``query_after_minutes``); apply each final answer. Returns how many
    changed. A query that fails leaves the instruction for the next run."""
    now = now.astimezone(UTC)
    oldest = now - min(wait.values(), default=timedelta(minutes=30))
    rows = list(session.scalars(select(DebitInstruction).where(
        DebitInstruction.state == "sent", DebitInstruction.sent_at <= oldest)
        .order_by(DebitInstruction.id).limit(limit).with_for_update(skip_locked=True)))
    changed = 0
    for row in rows:
        if row.sent_at is None or aware(row.sent_at) > now - wait.get(row.product_version_id, timedelta(minutes=30)):
            continue
        try:
            result = plugins.call(row.plugin, "payment_query", session=session, subject=f"loan:{row.loan_id}",
                                  request_id=row.request_id)
        except PluginFailure:
            continue
        changed += apply_result(session, row, result, today=today, actor=f"payment:{row.plugin}",
                                overpayment_multiple=overpayment_multiple, now=now)
    return changed
