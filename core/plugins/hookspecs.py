# mypy: disable-error-code="empty-body"
"""The hook specifications: every contract between the kernel and a plugin, in one module.

A plugin is a module (or object) whose functions are marked ``@hookimpl`` and named after the specs
below. Plugin authors write::

    from core.plugins.hookspecs import hookimpl

    @hookimpl
    def score_application(context, application, applicant, bureau_report):
        ...

Design: a product picks its plugins BY NAME (``"scoring": "scorecard"``), so one-answer hooks are never
broadcast. The caller asks the manager for one plugin's implementation
(``PluginManager.call(name, hook, ...)``, which uses pluggy's ``subset_hook_caller`` to leave every other
plugin out), so two scoring models can be installed side by side and each product uses its own. Those
specs are ``firstresult=True`` all the same, so that a broadcast call would still give one answer, the
first non-``None`` one (third parties before the built-ins, which are ``trylast``). Hooks where everyone
contributes (``report_types``, ``lifecycle_event``) are plain specs and are broadcast.

Every hook gets ``context`` (:class:`core.plugins.types.PluginContext`) first: the plugin's
configuration, the clock and guarded access to the caller's session. Arguments and results are the
frozen dataclasses of :mod:`core.plugins.types`; money is ``Decimal``.

Two setup hooks stand apart (``HOOK_FAMILIES["setup"]``): ``register_commands`` and ``plugin_schema`` are
called while the command line or the schema is assembled, before any request, and take no ``context``.
They are called directly, one plugin at a time (:meth:`core.plugins.manager.PluginManager.setup_call`):
no worker thread, no timeout, no ``plugin_calls`` record; an exception stops the assembly with
:class:`core.plugins.manager.PluginLoadError` naming the plugin. Through them a plugin brings what the
built-ins bring, and nothing in the app shell names a plugin.

What an exception means, for every hook: the manager runs each call in a SAVEPOINT with a timeout. If the
plugin raises or runs out of time, its database work is rolled back, the call is recorded in
``plugin_calls`` and the caller gets :class:`core.plugins.types.PluginFailure`. A plugin raises a
:class:`core.errors.LoanFactoryError` subclass to refuse on purpose (recorded as ``refused``), anything
else is a fault (``error``). Each spec says what its caller then does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import pluggy

from core.plugins.types import (
    ApplicantProfile,
    ApplicationFacts,
    BureauAccountEvent,
    BureauAck,
    BureauQuery,
    BureauReport,
    ContractDocument,
    ContractRequest,
    DebitBatch,
    IdentityQuery,
    IdentityResult,
    LifecycleEvent,
    NotificationReceipt,
    NotificationRequest,
    PaymentRequest,
    PaymentResult,
    PluginContext,
    PluginSchema,
    RefundRequest,
    ReportFile,
    ReportType,
    ScoreResult,
    SignedDocument,
    Signer,
    VerificationResult,
)

if TYPE_CHECKING:
    import click

PROJECT = "loanfactory"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: hook family -> its hooks; a product names one plugin per family (``"plugins": {"scoring": "scorecard"}``)
HOOK_FAMILIES: Mapping[str, tuple[str, ...]] = {
    "scoring": ("score_application",),
    "bureau": ("bureau_query", "bureau_report_account"),
    "payment": ("payment_disburse", "payment_debit", "payment_debit_batch", "payment_query", "payment_refund",
                "payment_verify_callback"),
    "esign": ("esign_render", "esign_sign", "esign_verify"),
    "reporting": ("report_types", "report_generate"),
    "notifications": ("notification_send",),
    "identity": ("identity_three_element", "identity_bank_card", "identity_liveness"),
    "lifecycle": ("lifecycle_event",),
    "configuration": ("config_problems",),
    "setup": ("register_commands", "plugin_schema"),
}


# --- identity verification (实名认证) ---------------------------------------------------------------------


@hookspec(firstresult=True)
def identity_three_element(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """Check that name, resident ID number and mobile phone belong together (三要素: the phone is
    registered to that ID under that name).

    Args:
        context: the call context.
        query: name, ID number and phone.

    Returns:
        :class:`IdentityResult` with ``check="three_element"``.

    firstresult: yes; called on the plugin the product names (``plugins.identity``) when the product
    requires the check (``identity_checks.required``).

    Raises:
        Anything or a timeout: the application goes to manual review naming the check; a fault is never
        read as a mismatch.
    """


@hookspec(firstresult=True)
def identity_bank_card(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """Check the bank card four elements (四要素): ``card_number`` at ``bank_code`` is held by that name and
    ID number, with that phone on the card.

    Args:
        context: the call context.
        query: name, ID number, phone, bank code and card number.

    Returns:
        :class:`IdentityResult` with ``check="bank_card"``.

    firstresult: yes; called on the plugin the product names (``plugins.identity``) when the product
    requires the check (``identity_checks.required``).

    Raises:
        Anything or a timeout: the application goes to manual review naming the check; a fault is never
        read as a mismatch.
    """


@hookspec(firstresult=True)
def identity_liveness(context: PluginContext, query: IdentityQuery) -> IdentityResult:
    """Liveness and face match: the live capture ``face_sha256`` is a live person and the one on the ID
    card's photo side ``id_photo_sha256`` (both documents in the store); ``unverifiable`` when either is
    missing.

    Args:
        context: the call context.
        query: name, ID number, and the digests of the ID photo and the live capture.

    Returns:
        :class:`IdentityResult` with ``check="liveness"`` and the similarity ``score``.

    firstresult: yes; called on the plugin the product names (``plugins.identity``) when the product
    requires the check (``identity_checks.required``).

    Raises:
        Anything or a timeout: the application goes to manual review naming the check; a fault is never
        read as a mismatch.
    """


# --- scoring ------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def score_application(context: PluginContext, application: ApplicationFacts, applicant: ApplicantProfile,
                      bureau_report: BureauReport | None) -> ScoreResult:
    """Score an application.

    Args:
        context: the call context.
        application: the loan asked for (amount, term, purpose, first installment).
        applicant: the applicant's profile (age, income, employment, housing).
        bureau_report: the report fetched with ``bureau_query`` for this application, or ``None`` when the
            product does not query a bureau.

    Returns:
        :class:`ScoreResult`: an integer score (higher is better), a grade band, reason codes for the
        characteristics that cost the most points (worst first, at least one unless the score is the
        maximum), and the model version, all deterministic for the same inputs.

    firstresult: yes; called on the one plugin the product names.

    Raises:
        Anything: the application goes to manual review, the error recorded on it; no score is stored.
    """


# --- credit bureau ------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def bureau_query(context: PluginContext, query: BureauQuery) -> BureauReport:
    """Fetch the subject's credit report.

    Args:
        context: the call context.
        query: ID number, name, the PBoC query reason, and the applicant's consent.

    Returns:
        :class:`BureauReport` as of ``context.now``: accounts with 24-month grids, inquiries, court and
        blacklist records. The same subject on the same day gives the same report.

    firstresult: yes; called on the bureau plugin the product names.

    Raises:
        ConsentRequiredError: ``query.consent`` is missing (refused; nothing is fetched).
        Anything else or a timeout: the application goes to manual review with the error recorded.
    """


@hookspec(firstresult=True)
def bureau_report_account(context: PluginContext, event: BureauAccountEvent) -> BureauAck:
    """Report an account event of one of our loans: opening, a month's status, or closure.

    Args:
        context: the call context.
        event: the PBoC record-210 fields for this account and report date.

    Returns:
        :class:`BureauAck`; sending the same (account, kind, report date) again returns the same reference
        and stores nothing new.

    firstresult: yes; called on the bureau plugin the product names.

    Raises:
        Anything: the event is not reported; the caller keeps it queued and resends it later.
    """


# --- payment channel ----------------------------------------------------------------------------------


@hookspec(firstresult=True)
def payment_disburse(context: PluginContext, request: PaymentRequest) -> PaymentResult:
    """Pay the loan principal out to the borrower's account.

    Args:
        context: the call context.
        request: amount, destination account and the idempotency key ``request_id``.

    Returns:
        :class:`PaymentResult`, usually ``pending`` (the outcome arrives by callback or ``payment_query``).
        Calling again with the same ``request_id`` returns the same payment and never pays twice.

    firstresult: yes; called on the payment plugin the product names.

    Raises:
        Anything or a timeout: the disbursement is marked failed and retryable (query first: the channel
        may have received it).
    """


@hookspec(firstresult=True)
def payment_debit(context: PluginContext, request: PaymentRequest) -> PaymentResult:
    """Collect a repayment by debiting the borrower's bound card.

    Args:
        context: the call context.
        request: amount, source account (the bound card) and the idempotency key ``request_id``.

    Returns:
        :class:`PaymentResult` as for ``payment_disburse``; idempotent by ``request_id``.

    firstresult: yes; called on the payment plugin the product names.

    Raises:
        Anything or a timeout: the collection is marked failed and retryable.
    """


@hookspec(firstresult=True)
def payment_debit_batch(context: PluginContext, batch: DebitBatch) -> list[PaymentResult]:
    """Hand a batch of debits to the channel (批量代扣), as a bank's batch file does.

    Args:
        context: the call context.
        batch: the batch id, its requests (each with its own ``request_id``) and whether partial debits
            are accepted.

    Returns:
        One :class:`PaymentResult` per request, in the batch's order: usually ``pending`` (the outcome
        arrives by callback, or by ``payment_query`` when none comes), ``failed`` for a request refused at
        once. Idempotent per ``request_id``: a request sent again (in this batch or another) returns the
        payment it already made and never debits twice. A ``succeeded`` result may carry less than asked
        only when ``allow_partial``.

    firstresult: yes; called on the payment plugin the product names.

    Raises:
        Anything or a timeout: the batch's fate is unknown; the caller keeps its instructions and sends them
        again under the same request ids (which the channel answers with what it already did).
    """


@hookspec(firstresult=True)
def payment_query(context: PluginContext, request_id: str) -> PaymentResult:
    """Ask the channel where an earlier disbursement, debit or refund stands.

    Args:
        context: the call context.
        request_id: the idempotency key of the earlier request.

    Returns:
        :class:`PaymentResult` with the channel's current status.

    firstresult: yes; called on the payment plugin the product names.

    Raises:
        LoanFactoryError: refused: the channel never saw ``request_id``.
        Anything else: the status is unknown; the caller asks again later.
    """


@hookspec(firstresult=True)
def payment_refund(context: PluginContext, request: RefundRequest) -> PaymentResult:
    """Refund (part of) a successful debit, idempotent by ``request.request_id``.

    Args:
        context: the call context.
        request: the original request id, the amount to return and why.

    Returns:
        :class:`PaymentResult` for the refund.

    firstresult: yes; called on the payment plugin the product names.

    Raises:
        LoanFactoryError: refused (unknown original, amount above what was collected).
        Anything else or a timeout: the refund is marked failed and retryable.
    """


@hookspec(firstresult=True)
def payment_verify_callback(context: PluginContext, headers: Mapping[str, str], body: bytes) -> PaymentResult:
    """Check a channel's asynchronous result notification and read it.

    Args:
        context: the call context.
        headers: the HTTP headers of the callback (they carry the signature).
        body: the raw body, exactly as received.

    Returns:
        :class:`PaymentResult` the callback announces. Receiving the same callback twice is harmless.

    firstresult: yes; called on the payment plugin the callback's URL names.

    Raises:
        CallbackSignatureError: the signature does not match; the callback is rejected and nothing changes.
    """


# --- e-signature --------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def esign_render(context: PluginContext, request: ContractRequest) -> ContractDocument:
    """Render the contract from the product's template and the loan's terms.

    Args:
        context: the call context.
        request: template name, terms snapshot (amounts, APR, schedule) and the two parties.

    Returns:
        :class:`ContractDocument`: the document bytes (PDF), media type and SHA-256 of the bytes.

    firstresult: yes; called on the e-signature plugin the product names.

    Raises:
        Anything: no contract; the loan is not signed and stays where it was.
    """


@hookspec(firstresult=True)
def esign_sign(context: PluginContext, document: SignedDocument, signer: Signer, channel: str) -> SignedDocument:
    """Add ``signer``'s signature to a document.

    Args:
        context: the call context.
        document: the document with the signatures so far (none for the first signer).
        signer: the borrower or the lender.
        channel: where the signature was given (``app``, ``h5``, ``counter``, ``system``).

    Returns:
        :class:`SignedDocument` with one more :class:`SignatureEvidence` (signer, time, hash, signature,
        public key, channel). The plugin keeps the evidence too.

    firstresult: yes; called on the e-signature plugin the product names.

    Raises:
        Anything: not signed; the caller may retry.
    """


@hookspec(firstresult=True)
def esign_verify(context: PluginContext, document: SignedDocument) -> VerificationResult:
    """Check that the document is unchanged and every signature on it is genuine.

    Args:
        context: the call context.
        document: the signed document to check.

    Returns:
        :class:`VerificationResult`: ``valid`` only if the bytes match every signed hash and every
        signature verifies; otherwise ``problems`` says which.

    firstresult: yes; called on the e-signature plugin the product names.

    Raises:
        Anything: verification could not run (not the same as invalid); the caller reports it.
    """


# --- regulatory reporting -----------------------------------------------------------------------------


@hookspec
def report_types(context: PluginContext) -> list[ReportType]:
    """List the reports this plugin can generate.

    Args:
        context: the call context.

    Returns:
        A list of :class:`ReportType`; codes are unique within the plugin.

    firstresult: no; every reporting plugin contributes its list (broadcast for the reports page).

    Raises:
        Anything: that plugin's reports are left out of the list and the error recorded.
    """


@hookspec(firstresult=True)
def report_generate(context: PluginContext, report_type: str, period_start: date, period_end: date
                    ) -> list[ReportFile]:
    """Generate one report for a period, reading the books through ``context.db()``.

    Args:
        context: the call context (a session is required).
        report_type: a code from this plugin's ``report_types``.
        period_start: first day covered.
        period_end: last day covered (inclusive).

    Returns:
        The generated files (e.g. CSV and XLSX of the same figures).

    firstresult: yes; called on the plugin that listed ``report_type``.

    Raises:
        LoanFactoryError: refused (unknown type, a period that is not a whole month for a monthly report).
        Anything else: no files; the caller reports the error.
    """


# --- notifications ------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def notification_send(context: PluginContext, message: NotificationRequest) -> NotificationReceipt:
    """Render a template with the message's variables and send it by SMS, app push or e-mail.

    Args:
        context: the call context.
        message: channel, recipient, template name, variables and the idempotency key ``request_id``.

    Returns:
        :class:`NotificationReceipt` with the rendered text; the same ``request_id`` sends once.

    firstresult: yes; called on the notifications plugin the product names.

    Raises:
        TemplateNotFoundError, TemplateVariableMissingError: refused, nothing sent.
        Anything else or a timeout: not sent; the caller may retry with the same ``request_id``.
    """


# --- lifecycle events ---------------------------------------------------------------------------------


@hookspec
def lifecycle_event(context: PluginContext, event: LifecycleEvent) -> None:
    """Hear about an application or loan state change (webhooks, audit trails, notifications).

    Args:
        context: the call context.
        event: entity, id, from and to state, when, who and why.

    Returns:
        Nothing.

    firstresult: no; broadcast to every plugin that implements it.

    Raises:
        Anything: contained: the listener's database work is rolled back and the error recorded; the
        state change itself stands and the other listeners still hear it.
    """


# --- configuration ------------------------------------------------------------------------------------


@hookspec
def config_problems(context: PluginContext) -> list[str]:
    """Say what in this plugin's settings makes it unfit to face real customers: a secret that is missing,
    too short, or a development value published in the source.

    Args:
        context: the call context; ``context.config`` holds the settings to check. There is no session.

    Returns:
        One sentence per problem, each naming the setting (``"callback_secret is not set"``); an empty
        list when the settings are fit. Outside the demo and the tests the app refuses to start while any
        plugin reports a problem, and prints them all.

    firstresult: no; every plugin answers for its own settings, at start-up, unrecorded.

    Raises:
        Anything: the app does not start (a check that cannot run is not a pass).
    """


# --- setup: commands, tables and migrations -----------------------------------------------------------


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add the plugin's commands to the ``loanfactory`` command line (datasette's ``register_commands``).

    Args:
        cli: a click group of this plugin's own; add commands or groups to it (``cli.add_command(group)`` or
            ``@cli.command()``). Each becomes ``loanfactory NAME``. A command that needs the app (its
            configuration, database, plugin manager) decorates its callback with
            ``flask.cli.with_appcontext`` and reads ``flask.current_app``; it never builds the app itself,
            and the app it gets has no web faces (``loanfactory.faces.with_channel_api`` attaches the API for
            a command that must post to it in process).

    Returns:
        Nothing.

    firstresult: no; every plugin adds its own commands (called once, when the command line first needs
    the plugins' commands).

    Raises:
        Anything: the command line reports the plugin and stops (``PluginLoadError``); a command whose name
        a built-in command or another plugin already has is refused the same way.
    """


@hookspec
def plugin_schema() -> PluginSchema:
    """Name the tables the plugin brings and the Alembic revisions that create them.

    Args:
        None: the schema depends on the installed code only.

    Returns:
        :class:`PluginSchema`: the modules that define the plugin's tables on ``core.db.base.Base``
        (imported to complete the metadata for ``create_all`` and for ``loanfactory db check``) and the
        directory of its Alembic revisions, one branch labelled with the plugin's name whose first
        revision ``depends_on`` the core revision it needs (``"0001"`` at the least). ``loanfactory db
        upgrade`` applies every plugin's branch with the core's.

    firstresult: no; every plugin with tables answers for itself.

    Raises:
        Anything: the schema cannot be assembled; the app, ``loanfactory db upgrade`` and ``db check`` stop
        with ``PluginLoadError`` naming the plugin.
    """
