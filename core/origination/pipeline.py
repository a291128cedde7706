"""The application pipeline: eligibility -> credit bureau -> scoring -> approval chain -> decision.

:func:`submit_application` takes a checked :class:`~core.origination.requests.ApplicationRequest`, finds or
creates the customer, records the application (draft -> submitted -> under_review through
:data:`core.states.APPLICATION_STATES`, each move recorded) and decides it in the caller's transaction. For a
product that lends to enterprises the request names the enterprise too: its file is created or brought up to
date (:func:`core.customers.enterprises.register_enterprise`) with the applicant as its legal representative,
and the application names it. The decision:

1. eligibility that needs no outside party: age, regions, debt-to-income, credit limits (live loans and
   outstanding principal with this lender, applications on their way included: :mod:`core.origination.limits`,
   counted with the customer's row locked) and the product's rules that use none of the bureau or score
   variables;
2. identity verification (:mod:`core.origination.identity`): the checks the product requires, through its
   identity plugin, each answer kept as evidence in the decision; a mismatch refuses (or, if the product says
   so, goes to a person), an unverifiable answer goes to a person once the machines would approve;
3. the credit bureau plugin the product names, under the applicant's consent; the blacklists the product
   checks are read from the report;
4. the scoring plugin; then the minimum score and the remaining rules;
5. the approval chain (:mod:`core.origination.approval`); an application the chain would approve while the
   product's required documents (``documents.before_approval``) are missing waits in manual review instead,
   and no person can approve it until they are in.

The outcome is ``approved`` (an offer priced at the rate of the applicant's risk band, with the schedule's
APR: :mod:`core.origination.approved`), ``rejected`` with reason codes, or ``under_review`` with a task in
the manual queue. A plugin that fails (raises, times out, is missing) never rejects anyone: the application
goes to manual review with the error recorded in its decision. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from sqlalchemy import Integer, Table, TextClause, bindparam, select, text
from sqlalchemy.orm import Session

from core.applications.models import Application
from core.businessday.clock import local_date
from core.customers.enterprises import register_enterprise
from core.customers.parties import Customer, InvalidCustomerError, new_customer_values
from core.db.direct import batched_inserts, insert_now, insert_now_after, update_now
from core.errors import LoanFactoryError, WrongStateError
from core.origination.approval import (
    DEFAULT_REVIEW_ROLE,
    FAILURE_REVIEW,
    ApprovalTask,
    ChainOutcome,
    compiled,
    open_task,
    record_decision,
    run_chain,
)
from core.origination.approved import ApprovedOffer, record_offer, servicing_rules
from core.origination.booking import save_payout_account
from core.origination.bureau_reports import record_bureau_report
from core.origination.catalog import Offer
from core.origination.errors import RequestProblems
from core.origination.identity import awaiting_identity_review, verify_identity
from core.origination.limits import Exposure, exposure, limit_reasons
from core.origination.quotes import quote
from core.origination.requests import ApplicationRequest
from core.origination.required_documents import awaiting_documents, missing_documents
from core.plugins.manager import PluginManager
from core.plugins.types import (
    ApplicantProfile,
    ApplicationFacts,
    BureauConsent,
    BureauQuery,
    BureauReport,
    PluginFailure,
    PluginNotFoundError,
)
from core.products.credit_line import is_credit_line
from core.products.expressions import VARIABLES, Type
from core.states import APPLICATION_STATES

OFFER_VALID_DAYS = 7
BUREAU_VARIABLES = frozenset({"score", "grade", "bureau_inquiries_3m", "bureau_overdue", "blacklisted"})
#: the actor of the machine's own steps (review, automatic decisions)
SYSTEM = "system:origination"


_CUSTOMERS = cast(Table, Customer.__table__)
_NEW_CUSTOMER_COLUMNS = ("name", "id_number", "id_number_index", "phone", "phone_index", "birth_date", "region",
                         "monthly_income")
#: the statements of the customer step, built once: per application they would cost more to build than to run.
#: The insert is text (PostgreSQL and SQLite spell ON CONFLICT alike) with the columns' own types, so the PII
#: is encrypted on the way in: the dialects' insert constructs with ON CONFLICT are compiled again on every call.
#: a known customer is read locked: the credit limits are counted one application of theirs at a time
_CUSTOMER_BY_INDEX = select(Customer).where(Customer.id_number_index == bindparam("index")).with_for_update()


def _new_customer(returning: str) -> TextClause:
    return text(
        f"INSERT INTO customers ({', '.join(_NEW_CUSTOMER_COLUMNS)}) "
        f"VALUES ({', '.join(':' + name for name in _NEW_CUSTOMER_COLUMNS)}) "
        f"ON CONFLICT (id_number_index) DO NOTHING RETURNING {returning}"
    ).bindparams(*(bindparam(name, type_=_CUSTOMERS.c[name].type) for name in _NEW_CUSTOMER_COLUMNS))


_NEW_CUSTOMER = _new_customer("id")
#: on PostgreSQL the same insert in the WITH of the application's (:func:`core.db.direct.insert_now_after`)
_NEW_CUSTOMER_FIRST = _new_customer("id AS customer_id").columns(customer_id=Integer).cte("new_customer")


def _insert_with_customer(values: dict[str, Any], session: Session, application: Application) -> bool:
    """Insert the new ``application`` and, unless the ID number is known, its customer (the column ``values``
    of a new one); returns whether the customer row is new.

    The customer's insert comes first, with ``ON CONFLICT DO NOTHING`` on the unique blind index of the ID
    number (normalised when the request was checked; no savepoint). On PostgreSQL it runs in the WITH of the
    application's insert: a first application costs one statement for both rows. When the ID number is
    known the insert does nothing (on PostgreSQL, neither does the application's), and the customer is read
    by the index, locked for the rest of the transaction (``FOR UPDATE``: the credit limits are counted one
    application of a customer at a time, :mod:`core.origination.limits`), and has phone and income brought up
    to date before the application is inserted. An applicant whose name differs from the customer's on file is
    refused here (``applicant.name``), before anything is decided: the contract is signed in the name on file,
    so such an application could only fail at signing. Two first applications at once meet at the index: the
    second's insert waits for the first transaction and inserts nothing, and the second then reads the
    first's row.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if insert_now_after(session, application, _NEW_CUSTOMER_FIRST, values):
            return True
        created = None
    else:
        created = connection.execute(_NEW_CUSTOMER, values).scalar()
    if created is not None:
        application.customer_id = int(created)
    else:
        customer = session.scalars(_CUSTOMER_BY_INDEX, {"index": values["id_number_index"]}).one()
        if customer.name != values["name"]:
            raise RequestProblems([("applicant.name", "does not match the name already on file for this ID "
                                    "number (the contract is signed in that name)")])
        customer.phone = values["phone"]
        customer.monthly_income = values["monthly_income"]
        application.customer_id = customer.id
    insert_now(session, application)
    return created is not None


def _context(offer: Offer, request: ApplicationRequest, application: Application, today: date,
             held: Exposure, first_installment: Decimal) -> dict[str, object]:
    applicant = request.applicant
    income = applicant.monthly_income
    debts = applicant.monthly_debt_payments + first_installment
    collateral_value = request.collateral_value
    return {
        "amount": request.amount, "term": Decimal(request.term), "method": request.method,
        "age": Decimal(applicant.age_on(today)),
        "dti": (debts / income) if income > 0 else Decimal(999),
        "monthly_income": income, "region": applicant.id_number[:6], "customer_type": offer.product.customer_type,
        "channel": application.channel,
        "collateral_type": (request.collateral or {}).get("type") or "",
        "collateral_value": collateral_value,
        "ltv": (request.amount / collateral_value) if collateral_value > 0 else Decimal(0),
        "existing_loans": Decimal(held.loans), "outstanding": held.outstanding,
    }


def _failed_rules(offer: Offer, context: Mapping[str, object], *, with_bureau: bool) -> list[str]:
    """Codes of the product's eligibility rules that fail: every rule's condition must hold."""
    codes = []
    for rule in offer.eligibility.get("rules", []):
        condition = compiled(rule["condition"])
        if bool(condition.variables & BUREAU_VARIABLES) == with_bureau and not condition.evaluate(context):
            codes.append(str(rule["code"]))
    return codes


def _pre_bureau_reasons(offer: Offer, request: ApplicationRequest, context: Mapping[str, object]) -> list[str]:
    rules = offer.eligibility
    reasons = []
    age = rules.get("age")
    if age and not int(age["min"]) <= int(context["age"]) <= int(age["max"]):  # type: ignore[call-overload]
        reasons.append("AGE_OUT_OF_RANGE")
    regions = rules.get("regions") or {}
    region = str(context["region"])
    if regions.get("allow") and not any(region.startswith(p) for p in regions["allow"]):
        reasons.append("REGION_NOT_SERVED")
    if any(region.startswith(p) for p in regions.get("deny", [])):
        reasons.append("REGION_NOT_SERVED")
    if rules.get("max_dti") is not None and Decimal(str(context["dti"])) > Decimal(str(rules["max_dti"])):
        reasons.append("DTI_TOO_HIGH")
    held = Exposure(int(str(context["existing_loans"])), Decimal(str(context["outstanding"])))
    reasons += limit_reasons(offer.product.credit_limits, held, request.amount)
    reasons += _failed_rules(offer, context, with_bureau=False)
    return reasons


def _blacklist_hits(offer: Offer, report: BureauReport) -> list[str]:
    lists = set(offer.eligibility.get("blacklists", []))
    hits = []
    if "court_enforcement" in lists and any(r.kind == "enforcement" or "enforce" in r.kind
                                            for r in report.court_records):
        hits.append("court_enforcement")
    if "fraud" in lists and any("fraud" in b.source or "fraud" in b.reason for b in report.blacklist):
        hits.append("fraud")
    if "bureau_bad_debt" in lists and report.worst_status >= 8:
        hits.append("bureau_bad_debt")
    if "internal" in lists and any(b.source == "internal" for b in report.blacklist):
        hits.append("internal")
    return hits


def _move(session: Session, application: Application, state: str, actor: str, reason: str | None = None) -> None:
    APPLICATION_STATES.transition_written(session, application, state, actor=actor, reason=reason)


def _reject(session: Session, application: Application, reasons: list[str], decision: dict[str, Any],
            now: datetime, actor: str) -> Application:
    application.decision = {**decision, "outcome": "rejected", "reasons": reasons}
    application.review_step = None
    application.decided_at = now
    _move(session, application, "rejected", actor, ", ".join(reasons))
    return application


def approve(session: Session, application: Application, offer: Offer, decision: dict[str, Any], now: datetime,
            actor: str) -> Application:
    """Price and approve: the offer (:class:`~core.origination.approved.ApprovedOffer`) at the rate of the
    applicant's risk band, with the schedule's APR and a deadline, recorded once on the application.

    An application for a credit-line product asks for a limit (its amount), not a loan: its approval records
    the limit and the band's rate in the decision (``approved_limit``, ``annual_rate``, ``offer_expires_at``),
    and the line is granted when the borrower accepts it (:func:`core.credit_lines.lifecycle.grant_line`);
    each drawdown is priced then."""
    rate = offer.product.rate_for_score(application.score)
    if is_credit_line(offer.document):
        application.decision = {**decision, "outcome": "approved", "reasons": [],
                                "approved_limit": str(application.amount), "annual_rate": str(rate),
                                "offer_expires_at": (now + timedelta(days=OFFER_VALID_DAYS)).isoformat()}
        application.review_step = None
        application.decided_at = now
        _move(session, application, "approved", actor)
        return application
    priced = quote(offer, application.amount, application.term, application.method, local_date(now), rate)
    record_offer(application, ApprovedOffer.priced(priced, application.term, servicing_rules(offer, application.method),
                                                   now + timedelta(days=OFFER_VALID_DAYS)))
    application.decision = {**decision, "outcome": "approved", "reasons": []}
    application.review_step = None
    application.decided_at = now
    _move(session, application, "approved", actor)
    return application


def _manual(session: Session, application: Application, decision: dict[str, Any], outcome: ChainOutcome) -> None:
    application.review_step = "manual_review"
    application.decision = {**decision, "outcome": "manual_review",
                            "task_id": outcome.task.id if outcome.task else None, "step": outcome.step_index}


def _failure_review(session: Session, application: Application, decision: dict[str, Any], stage: str,
                    error: LoanFactoryError, now: datetime) -> Application:
    errors = [*decision.get("errors", []), {"stage": stage, "error": str(error)}]
    step = {"name": {"zh": "插件故障人工审核", "en": "Manual review after a plugin failure"},
            "role": DEFAULT_REVIEW_ROLE}
    task = open_task(session, application.id, FAILURE_REVIEW, step, four_eyes=False, now=now,
                     reason=f"{stage}: {error}")
    application.review_step = "manual_review"
    application.decision = {**decision, "outcome": "manual_review", "errors": errors, "task_id": task.id,
                            "step": FAILURE_REVIEW}
    return application


def _encode(context: Mapping[str, object]) -> dict[str, object]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in context.items()}


def _decode(stored: Mapping[str, Any]) -> dict[str, object]:
    decoded: dict[str, object] = {}
    for name, value in stored.items():
        kind = VARIABLES.get(name, (Type.STRING,))[0]
        decoded[name] = Decimal(str(value)) if kind is Type.NUMBER and value is not None else value
    return decoded


def submit_application(session: Session, plugins: PluginManager, offer: Offer, request: ApplicationRequest, *,
                       channel: str, actor: str, now: datetime | None = None) -> Application:
    """Record an application for ``offer`` and decide it as far as the machines can.

    The application is inserted already under review, and the decision is written with one UPDATE
    (:mod:`core.db.direct`): no ORM flush. Its payout account, the bureau report and the records of its state
    changes and of the plugin calls are written with the decision (:func:`core.db.direct.batched_inserts`): on
    PostgreSQL in the UPDATE's statement, elsewhere one statement per table.

    Returns:
        The application in ``approved``, ``rejected`` or ``under_review`` (manual queue).
    """
    now = now or datetime.now(UTC)
    if request.external_id is not None:
        taken = session.scalar(select(Application.id).where(Application.channel == channel,
                                                            Application.external_id == request.external_id))
        if taken is not None:
            raise RequestProblems([("external_id", f"already names application {taken} of this channel")])
    applicant = request.applicant
    customer = new_customer_values(name=applicant.name, id_number=applicant.id_number, phone=applicant.phone,
                                   monthly_income=applicant.monthly_income)
    application = Application(channel=channel, external_id=request.external_id, product_code=offer.code,
                              product_version_id=offer.version_id, amount=request.amount, term=request.term,
                              method=request.method, collateral=request.collateral, consents=request.consents)
    with batched_inserts(session):
        new_customer = bool(APPLICATION_STATES.start_written(
            session, application, actor=actor, then=(("submitted", actor), ("under_review", SYSTEM)),
            insert=partial(_insert_with_customer, customer)))
        if request.enterprise is not None:
            application.enterprise_id = _borrowing_enterprise(session, request, application.customer_id)
        decided = _decide(session, plugins, offer, request, application, application.customer_id, new_customer,
                          now)
        update_now(session, decided)
    return decided


def _borrowing_enterprise(session: Session, request: ApplicationRequest, representative_id: int) -> int:
    """The id of the enterprise an application is for, its file created or brought up to date, the applicant
    its legal representative.

    Raises:
        RequestProblems: the enterprise has another legal representative on file (``enterprise.*``).
    """
    assert request.enterprise is not None
    try:
        enterprise, _new = register_enterprise(session, representative_id, **request.enterprise.columns())
    except InvalidCustomerError as error:
        raise RequestProblems([(f"enterprise.{error.field}", str(error).removeprefix(f"{error.field}: "))]) from None
    return enterprise.id


def _decide(session: Session, plugins: PluginManager, offer: Offer, request: ApplicationRequest,
            application: Application, customer_id: int, new_customer: bool, now: datetime) -> Application:
    """The decision of a new application under review, left unwritten on ``application`` (its records are
    written)."""
    today = local_date(now)
    channel = application.channel
    save_payout_account(session, application, request.applicant)
    first = offer.product.schedule(request.amount, request.term, request.method, today).installments[0].total
    held = Exposure(0, Decimal(0)) if new_customer else exposure(session, customer_id, now=now,
                                                                  excluding=application.id)
    context = _context(offer, request, application, today, held, first)
    decision: dict[str, Any] = {"context": _encode(context), "errors": []}
    reasons = _pre_bureau_reasons(offer, request, context)
    if reasons:
        return _reject(session, application, reasons, decision, now, SYSTEM)

    plugin_names = offer.plugins
    subject = f"application:{application.id}"
    applicant = request.applicant
    identity = verify_identity(session, plugins, offer, applicant, customer_id, subject)
    if identity.evidence:
        decision["identity"] = identity.evidence
    if identity.failure is not None:
        check, error = identity.failure
        return _failure_review(session, application, decision, f"identity.{check}", error, now)
    if identity.refusals:
        return _reject(session, application, identity.refusals, decision, now, SYSTEM)
    if identity.review:
        decision["identity_review"] = identity.review
    consent = request.consents["credit_bureau_query"]
    try:
        report: BureauReport = plugins.call(
            plugin_names["credit_bureau"], "bureau_query", session=session, subject=subject,
            query=BureauQuery(id_number=applicant.id_number, name=applicant.name, reason="02",
                              consent=BureauConsent(granted_at=datetime.fromisoformat(consent["granted_at"]),
                                                    purpose=consent["purpose"], channel=channel,
                                                    reference=consent["reference"])))
    except (PluginFailure, PluginNotFoundError) as error:
        return _failure_review(session, application, decision, "bureau", error, now)
    record_bureau_report(session, application.id, report, now)
    hits = _blacklist_hits(offer, report)
    context.update({"bureau_inquiries_3m": Decimal(report.inquiries_within(3)),
                    "bureau_overdue": report.current_overdue > 0, "blacklisted": bool(hits)})
    decision["bureau"] = {"report_id": report.report_id, "bureau": report.bureau, "blacklists": hits}

    profile = ApplicantProfile(age=applicant.age_on(today), monthly_income=applicant.monthly_income,
                               region=applicant.id_number[:6], employment_years=applicant.employment_years,
                               housing=applicant.housing, occupation=applicant.occupation,
                               dependants=applicant.dependants, customer_id=customer_id)
    facts = ApplicationFacts(product_code=offer.code, amount=request.amount,
                             term_months=request.term if offer.product.term_unit == "month" else 1,
                             purpose=request.purpose, channel=channel, monthly_payment=first,
                             application_id=application.id)
    try:
        score = plugins.call(plugin_names["scoring"], "score_application", session=session, subject=subject,
                             application=facts, applicant=profile, bureau_report=report)
    except (PluginFailure, PluginNotFoundError) as error:
        decision["context"] = _encode(context)
        return _failure_review(session, application, decision, "scoring", error, now)
    application.score = score.score
    application.grade = score.grade
    application.reason_codes = [r.code for r in score.reason_codes]
    context.update({"score": Decimal(score.score), "grade": score.grade})
    decision["context"] = _encode(context)
    decision["model_version"] = score.model_version
    decision["reason_meanings"] = {r.code: {"description": r.description, "characteristic": r.characteristic}
                                   for r in score.reason_codes}

    reasons = [f"BLACKLIST_{hit.upper()}" for hit in hits]
    if score.score < int(offer.eligibility.get("min_score", 0)):
        reasons.append("SCORE_TOO_LOW")
    reasons += _failed_rules(offer, context, with_bureau=True)
    if reasons:
        return _reject(session, application, reasons, decision, now, SYSTEM)

    return _finish_chain(session, application, offer, decision, context, 0, now)


def _finish_chain(session: Session, application: Application, offer: Offer, decision: dict[str, Any],
                  context: Mapping[str, object], start: int, now: datetime) -> Application:
    outcome = run_chain(session, application.id, offer.approval_steps, context, start=start, now=now)
    if outcome.outcome == "approve":
        missing = missing_documents(session, offer, application)
        if missing:
            return awaiting_documents(session, application, decision, missing, now)
        if decision.get("identity_review"):
            return awaiting_identity_review(session, application, decision, decision["identity_review"], now)
        return approve(session, application, offer, decision, now, SYSTEM)
    if outcome.outcome == "reject":
        return _reject(session, application, [outcome.reason_code or "AUTO_REJECT"], decision, now, SYSTEM)
    _manual(session, application, decision, outcome)
    return application


def decide_task(session: Session, task: ApprovalTask, offer: Offer, *, actor: str, approve_it: bool,
                note: str | None = None, now: datetime | None = None) -> Application:
    """A person decides a queued task; an approved manual step lets the rest of the chain run.

    Raises:
        WrongStateError: the task is decided already, the same person decides twice, the application is no
            longer under review, or (approving) documents the product requires are missing (``documents``).
    """
    now = now or datetime.now(UTC)
    application = session.get(Application, task.application_id, with_for_update=True)
    if application is None or application.state != "under_review":
        raise WrongStateError(f"task: application of task {task.id} is not under review", field="task",
                              value=task.id)
    missing = missing_documents(session, offer, application) if approve_it else []
    if missing:
        raise WrongStateError(f"documents: the product requires {', '.join(missing)} before approval",
                              field="documents", value=missing)
    state = record_decision(task, actor=actor, approve=approve_it, note=note, now=now)
    decision = dict(application.decision or {})
    decision["manual"] = [*decision.get("manual", []), {"task_id": task.id, "actor": actor,
                                                         "approve": approve_it, "note": note}]
    if state == "open":
        application.decision = decision
        return application
    if state == "rejected":
        return _reject(session, application, ["MANUAL_REJECT"], decision, now, actor)
    if task.step_index == FAILURE_REVIEW:
        return approve(session, application, offer, decision, now, actor)
    context = _decode(decision.get("context", {}))
    return _finish_chain(session, application, offer, decision, context, task.step_index + 1, now)
