"""From an approved application to a booked loan: acceptance, the contract, signing, disbursement.

The borrower accepts the offer (:func:`accept_offer`, before it expires; approved -> accepted); the
contract is rendered once by the product's e-signature plugin from the approved terms and kept
(:func:`contract_for`); the borrower signs the exact document they were shown (the SHA-256 must match), the
lender countersigns and the signatures are verified (:func:`sign_contract`; accepted -> contract_signed). Disbursement
(:func:`start_disbursement`; -> disbursing) sends a payout order to the product's payment plugin under a
request id of its own; the channel's signed callback (:func:`complete_disbursement`) books the loan with
:func:`core.loans.disbursement.disburse` on the settlement date (-> disbursed) or records the failure
(-> disbursement_failed, retryable with a new request id). A plugin that fails leaves the application
where it was and raises; nothing is half-written because the caller rolls back.

Before the payout order leaves, the customer's credit limits are checked again
(:func:`core.origination.limits.check_before_payout`); a success callback is held to its order's amount and
to a settlement date within the order's life (:func:`core.origination.settlement.check_callback`) before
the loan is booked from it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Table, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.applications.models import Application
from core.backoffice import audit
from core.businessday.clock import lender_zone
from core.businessday.closes import first_open_date
from core.customers.parties import Customer
from core.customers.pii import EncryptedBytes, EncryptedJSON, EncryptedString
from core.db.base import Amount, Base
from core.db.direct import insert_rows
from core.debits import authorisations
from core.debits.policy import DebitPolicy
from core.errors import InputError, WrongStateError
from core.inputs import parse_text
from core.loans.disbursement import disburse
from core.loans.disclosure import charge_clauses
from core.loans.models import Loan
from core.origination.approved import offer_if_any, offer_of, record_offer
from core.origination.catalog import Offer
from core.origination.errors import ContractMismatchError, NotFoundError, RequestProblems
from core.origination.limits import check_before_payout
from core.origination.requests import Applicant
from core.origination.settlement import CALLBACK_TOLERANCE_DAYS, check_callback
from core.plugins.manager import PluginManager
from core.plugins.types import (
    BankAccount,
    ContractDocument,
    ContractRequest,
    PaymentRequest,
    PaymentResult,
    SignatureEvidence,
    SignedDocument,
    Signer,
)
from core.schedule.apr import schedule_apr
from core.states import APPLICATION_STATES

LENDER = Signer(role="lender", name="Loan Product Factory 小额贷款有限公司", identifier="91310000MA1FL0AN0X")
DEFAULT_TEMPLATE = "personal_loan"
#: the longest signer's name (the applicant's name is at most as long)
MAX_SIGNER_NAME = 50
SHA256_HEX = re.compile("[0-9a-f]{64}", re.ASCII)


def _now() -> datetime:
    return datetime.now(UTC)


class PayoutAccount(Base):
    """The account an application's loan is paid out to (number and holder encrypted at rest)."""

    __tablename__ = "payout_accounts"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str] = mapped_column(EncryptedString("payout_accounts.account_number"))
    holder_name: Mapped[str] = mapped_column(EncryptedString("payout_accounts.holder_name"))


class ContractRecord(Base):
    """The contract rendered for an application, and the signatures on it.

    The PDF names the borrower and the signature evidence carries their name and ID number: both are
    encrypted at rest (:mod:`core.customers.pii`); ``terms`` holds the loan's figures only."""

    __tablename__ = "application_contracts"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(60), unique=True)
    media_type: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(EncryptedBytes("application_contracts.content"))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("application_contracts.signatures"),
                                                              default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def signed_document(self) -> SignedDocument:
        document = ContractDocument(self.contract_id, self.content, self.media_type, self.sha256)
        return SignedDocument(document, tuple(_evidence(e) for e in self.signatures))


class DisbursementOrder(Base):
    """One payout order for an application; a failed one is retried under a new request id."""

    __tablename__ = "disbursement_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    plugin: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    failure: Mapped[str | None] = mapped_column(String(500), nullable=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the lender's date the money moved on (the settlement's); the loan is booked on ``booked_on``, a later
    #: date when the settlement's own date was closed before its callback came (:func:`complete_disbursement`)
    value_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    booked_on: Mapped[date | None] = mapped_column(Date, nullable=True)


_NEW_PAYOUT_ACCOUNT = insert(cast(Table, PayoutAccount.__table__)).inline()


def save_payout_account(session: Session, application: Application, applicant: Applicant) -> None:
    """Keep the applicant's payout account with the application (flushed already: it needs the id).

    A Core insert (:func:`core.db.direct.insert_rows`: at once, or with the caller's batch): nothing reads the
    row back in the transaction that writes it, so it needs no ORM object, and the ORM's pending work is not
    flushed for it."""
    account = applicant.bank_account
    insert_rows(session, _NEW_PAYOUT_ACCOUNT, [{
        "application_id": application.id, "bank_code": account["bank_code"],
        "account_number": account["account_number"], "holder_name": account["holder_name"]}])


def _evidence(data: dict[str, Any]) -> SignatureEvidence:
    signer = data["signer"]
    return SignatureEvidence(signer=Signer(signer["role"], signer["name"], signer["identifier"]),
                             signed_at=datetime.fromisoformat(data["signed_at"]), sha256=data["sha256"],
                             signature=data["signature"], public_key=data["public_key"], channel=data["channel"],
                             algorithm=data.get("algorithm", "Ed25519"))


def _evidence_json(evidence: SignatureEvidence) -> dict[str, Any]:
    return {"signer": {"role": evidence.signer.role, "name": evidence.signer.name,
                       "identifier": evidence.signer.identifier},
            "signed_at": evidence.signed_at.isoformat(), "sha256": evidence.sha256, "signature": evidence.signature,
            "public_key": evidence.public_key, "channel": evidence.channel, "algorithm": evidence.algorithm}


def _require(application: Application, *states: str, doing: str) -> None:
    if application.state not in states:
        raise WrongStateError(f"state: cannot {doing} an application that is {application.state}",
                              field="state", value=application.state)


#: the states of an application whose offer the borrower has accepted
ACCEPTED_STATES = ("accepted", "contract_signed", "disbursing", "disbursed", "disbursement_failed")


def accept_offer(session: Session, application: Application, *, actor: str,
                 now: datetime | None = None) -> Application:
    """The borrower accepts the approved offer: approved -> accepted, the acceptance written on the offer
    (accepting again changes nothing).

    Raises:
        WrongStateError: not approved, or the offer has expired.
        StoredOfferError: the application's stored offer is damaged.
    """
    now = now or _now()
    if application.state in ACCEPTED_STATES:
        return application
    _require(application, "approved", doing="accept the offer of")
    if offer_if_any(application) is None and "approved_limit" in (application.decision or {}):
        raise WrongStateError("state: this application is for a credit line: accept it by taking the line",
                              field="state", value=application.state)
    offer = offer_of(application)
    if offer.expired(now):
        raise WrongStateError("state: the offer expired at " + offer.expires_at.isoformat(), field="state",
                              value="expired")
    record_offer(application, offer.accept(at=now, by=actor))
    APPLICATION_STATES.transition(session, application, "accepted", actor=actor, at=now)
    return application


def contract_terms(application: Application, offer: Offer, start: date) -> dict[str, Any]:
    """The terms printed on the contract: the approved offer's contract, its schedule from ``start``, and a
    clause for every charge it lets servicing levy (:func:`core.loans.disclosure.charge_clauses`).

    Raises:
        StoredOfferError: the application has no offer, or its stored offer is damaged.
    """
    approved = offer_of(application)
    contract = approved.contract_from(start)
    terms = contract.terms
    schedule = offer.product.schedule_of(terms)
    return {"amount": terms.principal, "annual_rate": terms.annual_rate, "apr": schedule_apr(schedule).apr,
            "term": approved.term, "term_unit": approved.term_unit, "method": terms.method.value,
            "start_date": start, "product_code": offer.code, "product_name": offer.product.name_zh,
            "maturity_date": schedule.maturity_date,
            "penalty_rate": contract.rules.penalty.annual_equivalent(terms.annual_rate, terms.day_count.basis),
            "charges": [{"code": c.code, "heading": c.heading, "text": c.text} for c in charge_clauses(contract)],
            "schedule": [{"period": i.period, "due_date": i.due_date, "principal": i.principal,
                          "interest": i.interest, "fee": i.fee, "total": i.total,
                          "remaining_principal": i.remaining_principal} for i in schedule.installments]}


def _json_terms(terms: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, (Decimal, date)):
            return str(value) if isinstance(value, Decimal) else value.isoformat()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {k: plain(v) for k, v in terms.items()}


def contract_for(session: Session, plugins: PluginManager, application: Application, offer: Offer, *,
                 today: date) -> ContractRecord:
    """The application's contract, rendered by the product's e-signature plugin the first time.

    Raises:
        WrongStateError: the offer is not accepted yet.
        PluginFailure: the e-signature plugin failed (nothing is stored).
    """
    record = session.get(ContractRecord, application.id)
    if record is not None:
        return record
    if application.state == "approved":
        raise WrongStateError("state: accept the offer before asking for its contract", field="state",
                              value=application.state)
    _require(application, "accepted", doing="draw up the contract of")
    customer = session.get(Customer, application.customer_id)
    assert customer is not None
    terms = contract_terms(application, offer, today)
    payout = session.get(PayoutAccount, application.id)
    statement = authorisations.contract_statement(DebitPolicy.of(offer.document), payout.bank_code,
                                                  payout.account_number) if payout is not None else None
    if statement is not None:
        terms["debit_authorisation"] = statement
    request = ContractRequest(contract_id=f"LF-{application.id:08d}",
                              template=str(offer.document.get("contract_template", DEFAULT_TEMPLATE)), terms=terms,
                              borrower=Signer("borrower", customer.name, customer.id_number), lender=LENDER)
    document: ContractDocument = plugins.call(offer.plugins["esign"], "esign_render", session=session,
                                              subject=f"application:{application.id}", request=request)
    record = ContractRecord(application_id=application.id, contract_id=document.contract_id,
                            media_type=document.media_type, sha256=document.sha256, content=document.content,
                            terms=_json_terms(terms), signatures=[])
    session.add(record)
    session.flush()
    return record


def signature_request(signer_name: object, sha256: object) -> tuple[str, str]:
    """The signer's name and the contract's SHA-256 (64 lower-case hex digits) a signature request carries,
    checked before anything is read.

    Raises:
        RequestProblems: each bad one, by name.
    """
    problems, values = [], {}
    for field, value, max_length in (("signer_name", signer_name, MAX_SIGNER_NAME), ("sha256", sha256, 64)):
        try:
            values[field] = parse_text(value, field, max_length)
        except InputError as error:
            problems.append((field, "is required" if value is None else error.reason))
    if "sha256" in values and not SHA256_HEX.fullmatch(values["sha256"]):
        problems.append(("sha256", "must be 64 lower-case hexadecimal digits"))
    if problems:
        raise RequestProblems(problems)
    return values["signer_name"], values["sha256"]


def sign_contract(session: Session, plugins: PluginManager, application: Application, offer: Offer, *,
                  signer_name: str, sha256: str, channel: str, actor: str) -> ContractRecord:
    """The borrower signs the document they saw; the lender countersigns; both are verified. When the contract
    states a debit authorisation, signing it grants it (:func:`core.debits.authorisations.capture`).

    ``channel`` is how the borrower signed as the e-signature evidence records it (``api`` for a channel's
    app through this API); the lender signs through ``system``.

    Raises:
        WrongStateError: no contract yet, or the application is not approved.
        ContractMismatchError: ``sha256`` is not the contract's, or the name is not the borrower's.
        PluginFailure: the e-signature plugin failed or the signatures do not verify.
    """
    record = session.get(ContractRecord, application.id)
    if record is None:
        raise WrongStateError("state: fetch the contract before signing it", field="state", value=application.state)
    customer = session.get(Customer, application.customer_id)
    assert customer is not None
    _check_signature_request(record, customer, signer_name, sha256)
    if record.signed_at is not None:
        return record
    _require(application, "accepted", doing="sign the contract of")
    esign = offer.plugins["esign"]
    subject = f"application:{application.id}"
    signed = record.signed_document()
    signed = plugins.call(esign, "esign_sign", session=session, subject=subject, document=signed,
                          signer=Signer("borrower", customer.name, customer.id_number), channel=channel)
    signed = plugins.call(esign, "esign_sign", session=session, subject=subject, document=signed, signer=LENDER,
                          channel="system")
    verdict = plugins.call(esign, "esign_verify", session=session, subject=subject, document=signed)
    if not verdict.valid:
        raise ContractMismatchError([("sha256", "the signed contract does not verify: " + "; ".join(verdict.problems))])
    record.signatures = [_evidence_json(e) for e in signed.signatures]
    record.signed_at = _now()
    payout = session.get(PayoutAccount, application.id)
    if payout is not None and "debit_authorisation" in record.terms:
        authorisations.capture(session, application_id=application.id, bank_code=payout.bank_code,
                               account_number=payout.account_number, holder_name=payout.holder_name,
                               policy=DebitPolicy.of(offer.document), contract_sha256=record.sha256,
                               channel=channel, actor=actor, now=record.signed_at)
    APPLICATION_STATES.transition(session, application, "contract_signed", actor=actor, reason=record.sha256)
    return record


def _check_signature_request(record: ContractRecord, customer: Customer, signer_name: str, sha256: str) -> None:
    """Refuse, naming each, a hash that is not the contract's and a name that is not the borrower's."""
    problems = []
    if sha256 != record.sha256:
        problems.append(("sha256", "this is not the contract the borrower was shown"))
    if signer_name.strip() != customer.name:
        problems.append(("signer_name", "must be the borrower's name as on the application"))
    if problems:
        raise ContractMismatchError(problems)


def start_disbursement(session: Session, plugins: PluginManager, application: Application, offer: Offer, *,
                       actor: str, today: date, tolerance_days: int = CALLBACK_TOLERANCE_DAYS,
                       zone: ZoneInfo | None = None) -> DisbursementOrder:
    """Send the payout order (contract_signed or a failed payout -> disbursing), placed at the payment
    plugins' clock (the time the channel that settles it sees).

    A payment plugin that refuses at once leaves the application ``disbursement_failed`` with the reason;
    one that raises (timeout, outage) raises :class:`~core.plugins.types.PluginFailure` so the caller rolls
    back and the channel may retry the same request. One that succeeds at once is completed as its
    callback would be (``today``, ``tolerance_days``, ``zone``: :func:`complete_disbursement`).

    Raises:
        CreditLimitError: the customer's loans and other applications leave no room for this one.
    """
    current = session.scalar(select(DisbursementOrder).where(
        DisbursementOrder.application_id == application.id).order_by(DisbursementOrder.id.desc()).limit(1))
    if application.state in ("disbursing", "disbursed") and current is not None:
        return current
    _require(application, "contract_signed", "disbursement_failed", doing="disburse")
    check_before_payout(session, application, offer.product.credit_limits, _now())
    attempt = session.scalar(select(DisbursementOrder.id).where(
        DisbursementOrder.application_id == application.id).order_by(DisbursementOrder.id.desc()).limit(1))
    request_id = f"LF-DISB-{application.id}-{(attempt or 0) + 1}"
    payout = session.get(PayoutAccount, application.id)
    if payout is None:
        raise NotFoundError(f"application {application.id} has no payout account", field="bank_account")
    plugin = str(offer.plugins["payment_channel"])
    APPLICATION_STATES.transition(session, application, "disbursing", actor=actor, reason=request_id)
    order = DisbursementOrder(application_id=application.id, request_id=request_id, plugin=plugin,
                              amount=application.amount, status="pending", created_at=plugins.clock().astimezone(UTC))
    session.add(order)
    session.flush()
    result: PaymentResult = plugins.call(
        plugin, "payment_disburse", session=session, subject=f"application:{application.id}",
        request=PaymentRequest(request_id=request_id, amount=application.amount,
                               account=BankAccount(payout.bank_code, payout.account_number, payout.holder_name),
                               memo=f"loan for application {application.id}"))
    if result.status == "failed":
        _fail(session, application, order, result, actor)
    elif result.status == "succeeded":
        complete_disbursement(session, order, result, actor=actor, today=today, tolerance_days=tolerance_days,
                              zone=zone)
    return order


def _fail(session: Session, application: Application, order: DisbursementOrder, result: PaymentResult,
          actor: str) -> None:
    order.status = "failed"
    order.failure = f"{result.failure_code}: {result.failure_message}"[:500]
    APPLICATION_STATES.transition(session, application, "disbursement_failed", actor=actor, reason=order.failure)


def order_for(session: Session, request_id: str) -> DisbursementOrder:
    """The payout order of ``request_id`` (locked), or :class:`NotFoundError`."""
    order = session.scalars(select(DisbursementOrder).where(DisbursementOrder.request_id == request_id)
                            .with_for_update()).one_or_none()
    if order is None:
        raise NotFoundError(f"request_id: no payout order {request_id!r}", field="request_id", value=request_id)
    return order


def complete_disbursement(session: Session, order: DisbursementOrder, result: PaymentResult, *,
                          actor: str, today: date, tolerance_days: int = CALLBACK_TOLERANCE_DAYS,
                          zone: ZoneInfo | None = None) -> Loan | None:
    """Apply the payment channel's final word on a payout; a repeated callback changes nothing.

    On success the loan is booked on the settlement date (in the lender's ``zone``) under the approved offer's
    contract, its schedule starting on that date, once the callback matches the order
    (:func:`~core.origination.settlement.check_callback`, against ``today``, the caller's business date, and
    ``tolerance_days``).

    A settlement whose date end-of-day has closed already (the bank answered late) is booked on the first open
    business date, the date the books can still take it: the order keeps the settlement's ``value_date`` and
    the ``booked_on`` date, the audit log a ``disbursement.booked_late`` event, and the bank's daily
    reconciliation lists it (:func:`core.origination.late.late_bookings`). The schedule starts on the booked date.

    Raises:
        CallbackMismatchError: the amount or the settlement date does not fit the order; the order is flagged
            (a :class:`~core.errors.RecordedRefusal`: the caller commits the flag).
        StoredOfferError: the application's stored offer is damaged (say its rate is missing): nothing is
            booked, and no default rate stands in for it.
    """
    application = session.get(Application, order.application_id, with_for_update=True)
    assert application is not None
    if order.status != "pending" or result.status == "pending":
        return session.get(Loan, order.loan_id) if order.loan_id else None
    if result.status == "failed":
        _fail(session, application, order, result, actor)
        return None
    settled = (result.settled_at or _now()).astimezone(zone or lender_zone())
    check_callback(session, order, result, settled, today=today, tolerance_days=tolerance_days, actor=actor,
                   zone=zone)
    value_date = settled.date()
    booked_on = first_open_date(session, value_date)
    contract = offer_of(application).contract_from(booked_on)
    loan = disburse(session, key=order.request_id, customer_id=application.customer_id, terms=contract.terms,
                    channel=order.plugin, actor=actor, product_code=application.product_code,
                    product_version_id=application.product_version_id, rules=contract.rules,
                    application_id=application.id, on=booked_on)
    order.status = "succeeded"
    order.settled_at, order.value_date, order.booked_on = settled, value_date, booked_on
    if booked_on != value_date:
        audit.record(session, actor=actor, action="disbursement.booked_late", entity_type="disbursement_order",
                     entity_id=order.request_id, after={"value_date": value_date, "booked_on": booked_on,
                                                        "loan_id": loan.id, "amount": order.amount},
                     comment=f"settled on {value_date}, a closed business date: booked on {booked_on}")
    order.loan_id = loan.id
    APPLICATION_STATES.transition(session, application, "disbursed", actor=actor, reason=result.channel_reference)
    return loan

