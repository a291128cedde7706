"""The values that cross the plugin boundary: requests, results, the call context and the plugin errors.

Hooks never receive ORM rows: the caller turns its rows into these frozen dataclasses, so a plugin written
against them keeps working when a table changes, and a plugin cannot write to our books behind the
caller's back. Money is ``Decimal`` throughout (``core.money.to_decimal`` refuses floats). Every hook gets
a :class:`PluginContext` first: the plugin's own configuration, the clock, and (when the caller has one)
guarded access to the caller's database session.

The errors at the bottom are what plugins raise on purpose (:class:`ConsentRequiredError`,
:class:`CallbackSignatureError`, :class:`TemplateVariableMissingError`) and what the manager raises to
callers (:class:`PluginFailure`, :class:`PluginNotFoundError`).
"""

from __future__ import annotations

import calendar
import importlib.util
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session, SessionTransaction

from core.errors import LoanFactoryError

# --- the call context ---------------------------------------------------------------------------------


class PluginCancelledError(LoanFactoryError):
    """A plugin touched the database after its call had timed out; the caller already gave up on it."""


class NoSessionError(LoanFactoryError):
    """A plugin asked for the database in a call whose caller passed no session."""


class PluginContext:
    """What the manager hands every hook as ``context``.

    Attributes:
        plugin_name: the name the plugin is registered under (what products name).
        hook: the hook being called.
        config: the plugin's own settings (``PLUGIN_CONFIG[plugin_name]``), read-only.
        now: the caller's clock for this call (timezone-aware, Asia/Shanghai by default).

    The database session is the caller's, reachable only through ``with context.db() as session:``. The
    manager runs each call in a worker thread with a timeout; the first ``db()`` block of a call opens its
    SAVEPOINT (a call that never touches the database costs none), which the manager releases when the
    call succeeds and rolls back when it fails (:meth:`finish`). ``db()`` holds a lock so that a call that
    times out is cut off between two ``db()`` blocks, never inside one; once the call is over, ``db()`` is
    refused. Do the slow part (the network call to the outside party) outside ``db()`` blocks, and keep no
    ORM object past the block it was loaded in.
    """

    def __init__(self, *, plugin_name: str, hook: str, config: Mapping[str, Any], now: datetime,
                 session: Session | None = None) -> None:
        self.plugin_name = plugin_name
        self.hook = hook
        self.config = config
        self.now = now
        self._session = session
        self._lock = threading.Lock()
        self._cancelled = False
        self._over = False
        self._savepoint: SessionTransaction | None = None

    @property
    def has_session(self) -> bool:
        """Whether the caller passed a session (some callers, such as a CLI listing, do not)."""
        return self._session is not None

    @contextmanager
    def db(self) -> Iterator[Session]:
        """The caller's session, for one short block of queries and writes (never commits).

        Raises:
            NoSessionError: the caller passed no session.
            PluginCancelledError: the call already timed out (the caller has rolled its work back), or it
                is over (a plugin kept its context past the call).
        """
        if self._session is None:
            raise NoSessionError(f"{self.plugin_name}.{self.hook}: the caller passed no database session",
                                 field="session")
        with self._lock:
            if self._cancelled:
                raise PluginCancelledError(
                    f"{self.plugin_name}.{self.hook}: the call timed out; its database work is discarded",
                    field=self.hook)
            if self._over:
                raise PluginCancelledError(
                    f"{self.plugin_name}.{self.hook}: the call is over; use the database only during it",
                    field=self.hook)
            if self._savepoint is None:
                self._savepoint = self._session.begin_nested()
            yield self._session

    def cancel(self) -> None:
        """Cut the call off: waits for a running ``db()`` block to end, then refuses every later one."""
        with self._lock:
            self._cancelled = True

    def finish(self, *, keep: bool) -> None:
        """End the call (the manager does, once it has the outcome): refuse every later ``db()`` block, then
        release the call's SAVEPOINT into the caller's transaction when ``keep``, roll it back otherwise."""
        with self._lock:
            self._over = True
            savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None:
            (savepoint.commit if keep else savepoint.rollback)()

    @property
    def cancelled(self) -> bool:
        """Whether the manager has given up on this call (a slow plugin may check and stop early)."""
        return self._cancelled


# --- scoring ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicantProfile:
    """The applicant as a scoring model sees them (no name, no ID number).

    ``housing`` is one of ``own``, ``rent``, ``free``; ``occupation`` one of ``unemployed``,
    ``unskilled``, ``skilled``, ``management`` (``None`` when not declared).
    """

    age: int
    monthly_income: Decimal
    region: str | None = None
    employment_years: Decimal | None = None
    housing: str | None = None
    occupation: str | None = None
    dependants: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """The loan asked for. ``monthly_payment`` is the first scheduled installment when known."""

    product_code: str
    amount: Decimal
    term_months: int
    purpose: str | None = None
    channel: str | None = None
    monthly_payment: Decimal | None = None
    application_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """Why points were lost: the characteristic, its code, a sentence, and the points given up."""

    code: str
    characteristic: str
    description: str
    points_lost: Decimal


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score. ``grade`` is the band (``A`` best); reason codes are ordered by points lost, worst first."""

    score: int
    grade: str
    reason_codes: tuple[ReasonCode, ...]
    model_version: str
    points: Mapping[str, Decimal] = field(default_factory=dict)


# --- credit bureau (征信) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BureauConsent:
    """The applicant's consent to a bureau query (征信业管理条例 Art. 18): when, for what, how, proof."""

    granted_at: datetime
    purpose: str
    channel: str
    reference: str


@dataclass(frozen=True, slots=True)
class BureauQuery:
    """Who to look up and under which consent. ``reason`` is the PBoC query reason code (``02`` = loan)."""

    id_number: str
    name: str
    consent: BureauConsent | None
    reason: str = "02"


@dataclass(frozen=True, slots=True)
class BureauAccount:
    """One credit account on a report.

    ``account_type`` is D1 (non-revolving), R1 (revolving) or R4 (sub-account); ``status`` 1 normal,
    2 overdue, 3 closed, 4 bad debt; ``grid`` the 24-month repayment status, oldest month first, one
    symbol each of ``N 1-7 C G D Z B M * # /``.
    """

    account_id: str
    lender: str
    lender_type: str
    account_type: str
    opened_on: date
    closed_on: date | None
    credit_amount: Decimal
    balance: Decimal
    overdue_amount: Decimal
    status: str
    grid: str


@dataclass(frozen=True, slots=True)
class BureauInquiry:
    """A past query of the subject's report: when, by whom, why (01 post-loan, 02 loan, 03 card)."""

    queried_on: date
    institution: str
    reason: str


@dataclass(frozen=True, slots=True)
class CourtRecord:
    """A civil judgment or enforcement case naming the subject."""

    case_number: str
    filed_on: date
    kind: str
    amount: Decimal
    status: str


@dataclass(frozen=True, slots=True)
class BlacklistRecord:
    """A listing on a dishonest-debtor or fraud list."""

    source: str
    listed_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class BureauReport:
    """A credit report as of ``as_of``. Helpers give the figures scorecards use."""

    report_id: str
    bureau: str
    as_of: date
    accounts: tuple[BureauAccount, ...]
    inquiries: tuple[BureauInquiry, ...]
    court_records: tuple[CourtRecord, ...]
    blacklist: tuple[BlacklistRecord, ...]

    def inquiries_within(self, months: int, reasons: tuple[str, ...] = ("02", "03")) -> int:
        """Loan and card approval queries in the last ``months`` months (多头借贷)."""
        cutoff = _months_before(self.as_of, months)
        return sum(1 for q in self.inquiries if q.queried_on > cutoff and q.reason in reasons)

    @property
    def open_accounts(self) -> tuple[BureauAccount, ...]:
        """Accounts not closed (status other than 3)."""
        return tuple(a for a in self.accounts if a.status != "3")

    @property
    def current_overdue(self) -> Decimal:
        """Overdue amount across all accounts today."""
        return sum((a.overdue_amount for a in self.accounts), Decimal(0))

    @property
    def worst_status(self) -> int:
        """Worst 30-day band seen in any grid in 24 months (0 none; 1-7; 8 for bad debt B/G/D/Z)."""
        worst = 0
        for account in self.accounts:
            for symbol in account.grid:
                if symbol.isdigit():
                    worst = max(worst, int(symbol))
                elif symbol in "BGDZ":
                    worst = 8
        return worst


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier, or that month's last day (2026-03-31 -> 2026-02-28)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class BureauAccountEvent:
    """What we tell the bureau about one of our loans (PBoC record 210).

    ``kind``: ``open`` (report-time code 10), ``monthly`` (30), ``close`` (20). ``status_symbol`` is this
    month's grid symbol; ``five_tier`` 1 正常 … 5 损失.
    """

    kind: Literal["open", "monthly", "close"]
    account_id: str
    id_number: str
    name: str
    report_date: date
    account_type: str
    credit_amount: Decimal
    balance: Decimal
    due_this_period: Decimal = Decimal(0)
    paid_this_period: Decimal = Decimal(0)
    overdue_periods: int = 0
    overdue_amount: Decimal = Decimal(0)
    remaining_periods: int = 0
    status_symbol: str = "N"
    five_tier: int = 1


@dataclass(frozen=True, slots=True)
class BureauAck:
    """The bureau's receipt for an account event; resending the same event returns the same reference."""

    reference: str
    accepted: bool
    message: str = ""


# --- payment channel ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A destination or source account (card number or account number, and the holder's name)."""

    bank_code: str
    account_number: str
    holder_name: str


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A disbursement or a debit. ``request_id`` is the idempotency key: repeat it, get the same payment."""

    request_id: str
    amount: Decimal
    account: BankAccount
    loan_id: int | None = None
    currency: str = "CNY"
    memo: str = ""


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A refund of (part of) an earlier debit, idempotent by its own ``request_id``."""

    request_id: str
    original_request_id: str
    amount: Decimal
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DebitBatch:
    """Debits handed to a channel together (批量代扣), as a bank's batch file carries them.

    ``batch_id`` names the batch (the same batch sent again carries the same id and the same requests);
    ``allow_partial``: the channel may collect less than a request's amount when the account holds less.
    """

    batch_id: str
    requests: tuple[PaymentRequest, ...]
    allow_partial: bool = False


PaymentStatus = Literal["pending", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """Where a payment stands. ``pending`` means the outcome arrives later by callback or query.

    A ``failed`` result with ``retryable=True`` may be sent again under a new request id.
    """

    request_id: str
    status: PaymentStatus
    amount: Decimal
    channel_reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    retryable: bool = False
    settled_at: datetime | None = None


# --- e-signature --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signer:
    """A party who signs: ``role`` is ``borrower`` or ``lender``; ``identifier`` an ID or company code."""

    role: Literal["borrower", "lender"]
    name: str
    identifier: str


@dataclass(frozen=True, slots=True)
class ContractRequest:
    """What a contract is rendered from: the product's template name and the loan's terms snapshot.

    ``terms`` holds amount, annual_rate, apr, term, method, start date and ``schedule`` (a list of
    installment mappings); values are Decimals, ints, strings or dates.
    """

    contract_id: str
    template: str
    terms: Mapping[str, Any]
    borrower: Signer
    lender: Signer


@dataclass(frozen=True, slots=True)
class ContractDocument:
    """A rendered, unsigned contract: the bytes, their media type and SHA-256 (hex)."""

    contract_id: str
    content: bytes
    media_type: str
    sha256: str


@dataclass(frozen=True, slots=True)
class SignatureEvidence:
    """One signature: who, in what role, when, over which hash, through which channel, and the proof."""

    signer: Signer
    signed_at: datetime
    sha256: str
    signature: str
    public_key: str
    channel: str
    algorithm: str = "Ed25519"


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A contract and every signature on it so far."""

    document: ContractDocument
    signatures: tuple[SignatureEvidence, ...]


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Whether a signed document is intact; ``problems`` says what does not match."""

    valid: bool
    problems: tuple[str, ...] = ()


# --- regulatory reporting -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportType:
    """A report a plugin can produce: a code, a title (in English, and ``title_zh`` in Chinese when the
    plugin gives one), and whether it covers a month or any period."""

    code: str
    title: str
    period: Literal["month", "range"]
    title_zh: str = ""


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One generated file."""

    name: str
    media_type: str
    content: bytes


# --- notifications ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationRequest:
    """A message to send from a template. ``request_id`` makes sending idempotent.

    ``template`` names the event (``approved``, ``repayment_due``...): the plugin renders its own text for
    it, unless ``text`` carries the product's template for this channel and locale, which then wins.
    Placeholders are ``{variable}``; ``locale`` is ``zh_CN`` or ``en``.
    """

    request_id: str
    channel: Literal["sms", "app", "email"]
    recipient: str
    template: str
    variables: Mapping[str, str]
    locale: str = "zh_CN"
    text: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationReceipt:
    """What the gateway accepted: status ``sent``, ``delivered`` or ``failed``, and its reference."""

    request_id: str
    status: Literal["sent", "delivered", "failed"]
    provider_reference: str
    rendered: str


# --- lifecycle events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A state change of an application or a loan, after the kernel made it (and before the commit)."""

    entity: Literal["application", "loan"]
    entity_id: int
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


# --- setup -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginSchema:
    """The tables a plugin brings (the ``plugin_schema`` hook's answer).

    Attributes:
        models: module paths; importing each defines some of the plugin's tables on ``core.db.base.Base``.
        migrations: the directory of the plugin's Alembic revision files (its own version location), or
            ``None``: then its tables exist only where ``create_all`` makes them (the embedded default,
            tests), and ``loanfactory db check`` reports them missing from a migrated database.
    """

    models: tuple[str, ...] = ()
    migrations: Path | None = None

    @classmethod
    def of_package(cls, package: str) -> PluginSchema:
        """The usual layout: the tables in ``<package>.models``, the revisions in the package's
        ``migrations/`` directory (``PluginSchema.of_package(__name__)`` in the plugin's ``__init__``)."""
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise PluginNotFoundError(f"no package {package!r} to find the tables of", field="package", value=package)
        return cls(models=(f"{package}.models",), migrations=Path(spec.origin).parent / "migrations")


# --- errors -------------------------------------------------------------------------------------------


class PluginNotFoundError(LoanFactoryError):
    """A product or caller named a plugin that is not installed, is disabled, or lacks the hook."""


class PluginFailure(LoanFactoryError):
    """A plugin call raised or timed out; its database work was rolled back and the call recorded.

    Callers translate it: an application goes to manual review with ``str(error)`` recorded; a payment is
    marked failed with ``retryable`` as given. ``outcome`` is ``error``, ``refused`` (the plugin raised a
    :class:`LoanFactoryError` on purpose, e.g. no consent) or ``timeout``; ``cause`` is the exception.
    """

    def __init__(self, message: str, *, plugin: str, hook: str, outcome: str, retryable: bool,
                 cause: BaseException | None = None) -> None:
        super().__init__(message, field=f"{plugin}.{hook}")
        self.plugin = plugin
        self.hook = hook
        self.outcome = outcome
        self.retryable = retryable
        self.cause = cause


class ConsentRequiredError(LoanFactoryError):
    """A bureau was asked for a report without the applicant's consent (征信业管理条例 Art. 18)."""


class CallbackSignatureError(LoanFactoryError):
    """A payment callback's signature does not match its body: it did not come from the channel."""


class TemplateVariableMissingError(LoanFactoryError):
    """A notification template uses a variable the request did not provide (``field`` names it)."""


class TemplateNotFoundError(LoanFactoryError):
    """A notification names a template the plugin does not have."""


# --- identity verification (实名认证) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityQuery:
    """Whom to verify: name, resident ID number and mobile phone (the three elements); for a bank card check
    also the card's bank code and number (the four elements); for liveness and face match the SHA-256 of
    the ID card's photo side and of the live face capture, documents in the store (``None`` if not handed
    in)."""

    name: str
    id_number: str
    phone: str
    bank_code: str | None = None
    card_number: str | None = None
    id_photo_sha256: str | None = None
    face_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityResult:
    """A provider's answer: ``match`` (verified), ``mismatch`` (the elements do not belong together, or the
    face is not the ID's), or ``unverifiable`` (the provider could not tell: no record, material missing).
    ``reference`` is the provider's own id of the check, ``score`` a face similarity in [0, 1]."""

    check: Literal["three_element", "bank_card", "liveness"]
    outcome: Literal["match", "mismatch", "unverifiable"]
    provider: str
    reference: str
    reason: str = ""
    score: Decimal | None = None
