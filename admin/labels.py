"""What a person reads for a code the system stores: statuses, roles, enum options, ledger accounts.

The kernel stores codes (``in_review``, ``equal_installment``, ``risk_officer``, ``1303``); every screen
shows them through these functions, in the user's language, never raw. :data:`CODE_LABELS` holds the
English label of every status, role and product-schema enum option (translated by the admin's catalogue
like any other string); a code without a label is shown as it is, and ``tests/admin/test_admin_zh_walk.py``
fails when a page shows one. Ledger accounts are named from the chart itself
(:data:`core.ledger.accounts.CHART`, which carries both languages).

In templates: ``{{ version.status|lf_label }}``, ``{{ posting.account|lf_account }}``,
``{{ transition.reason|lf_reason }}``, ``{{ user.role_names|lf_roles }}``, ``{{ event.at|lf_time }}`` (every
time in Beijing time, with the zone said), ``{{ proof.cap|lf_percent }}`` (a fraction as ``24%``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context

from core.ledger.accounts import CASH_CLEARING_PREFIX, CHART

#: code -> English label (translated at render time)
CODE_LABELS = {
    # product versions
    "draft": _l("Draft"), "in_review": _l("In review"), "published": _l("Published"), "paused": _l("Paused"),
    "retired": _l("Retired"),
    # applications
    "submitted": _l("Submitted"), "under_review": _l("Under review"), "approved": _l("Approved"),
    "rejected": _l("Rejected"), "returned": _l("Returned for supplement"), "cancelled": _l("Cancelled"),
    "expired": _l("Expired"), "accepted": _l("Offer accepted"), "line_granted": _l("Line granted"),
    "contract_signed": _l("Contract signed"), "disbursing": _l("Disbursing"),
    "disbursed": _l("Disbursed"), "disbursement_failed": _l("Disbursement failed"),
    # loans and installments
    "active": _l("Performing"), "overdue": _l("Overdue"), "paid_off": _l("Paid off"),
    "prepaid_closed": _l("Prepaid and closed"), "written_off": _l("Written off"), "pending": _l("Pending"),
    "due": _l("Due"), "paid": _l("Paid"),
    # servicing events, approval tasks, change requests
    "posted": _l("Posted"), "reversed": _l("Reversed"), "open": _l("Open"), "sent_back": _l("Sent back"),
    "repayment": _l("Repayment"), "prepayment": _l("Prepayment"), "penalty_waiver": _l("Penalty waiver"),
    "write_off": _l("Write-off"), "suspense_application": _l("Overpayment applied"),
    "suspense_refund": _l("Overpayment refunded"), "disbursement": _l("Disbursement"),
    "reversal": _l("Reversal"),
    # roles
    "admin": _l("Administrator"), "product_manager": _l("Product manager"), "risk_officer": _l("Risk officer"),
    "risk_manager": _l("Risk manager"), "finance": _l("Finance"), "operations": _l("Operations"),
    "auditor": _l("Auditor"),
    # five-tier classification and delinquency buckets
    "normal": _l("Normal"), "special_mention": _l("Special mention"), "substandard": _l("Substandard"),
    "doubtful": _l("Doubtful"), "loss": _l("Loss"), "current": _l("Current"),
    # product schema options
    "individual": _l("Individual"), "enterprise": _l("Enterprise"),
    "equal_installment": _l("Equal installments (principal and interest)"),
    "equal_principal": _l("Equal principal"), "interest_only": _l("Interest first, principal at maturity"),
    "bullet": _l("Principal and interest at maturity"),
    "keep_term": _l("Keep the term, lower installments"),
    "keep_installment": _l("Keep the installment, shorter term"),
    "nominal_irr": _l("Nominal IRR"), "effective_irr": _l("Effective IRR"), "daily_rate": _l("Daily rate"),
    "day": _l("Days"), "week": _l("Weeks"), "month": _l("Months"),
    "daily": _l("Daily"), "weekly": _l("Weekly"), "biweekly": _l("Every two weeks"), "monthly": _l("Monthly"),
    "quarterly": _l("Quarterly"),
    "half_up": _l("Round half up"), "half_even": _l("Round half to even"), "up": _l("Round up"),
    "down": _l("Round down"),
    "fixed": _l("Fixed amount"), "percent_of_principal": _l("Percent of the principal"),
    "percent_of_outstanding": _l("Percent of the outstanding principal"), "multiplier": _l("Multiple of the rate"),
    "upfront": _l("Up front"), "per_installment": _l("With every installment"),
    "on_prepayment": _l("On prepayment"), "principal": _l("Principal"), "interest": _l("Interest"),
    "fee": _l("Fee"), "penalty": _l("Penalty"), "capitalised": _l("Capitalised"),
    "extra_days": _l("Extra days"), "same_day": _l("Same day of the month"), "fixed_day": _l("Fixed day"),
    "actual_days": _l("Actual days"), "first_period": _l("First period"),
    "automatic": _l("Automatic"), "manual": _l("Manual"), "approve": _l("Approve"), "reject": _l("Reject"),
    "continue": _l("Continue"),
    "vehicle": _l("Vehicle"), "property": _l("Property"), "deposit": _l("Deposit"), "equipment": _l("Equipment"),
    "internal": _l("Internal list"), "fraud": _l("Fraud list"), "court_enforcement": _l("Court enforcement list"),
    "bureau_bad_debt": _l("Bureau bad debt"), "late": _l("Late"),
    "sms": _l("SMS"), "email": _l("E-mail"), "app": _l("App message"),
    "application_received": _l("Application received"), "repayment_due": _l("Repayment due"),
    "repayment_received": _l("Repayment received"), "settled": _l("Settled"), "receivable": _l("Receivable"),
    "true": _l("Yes"), "false": _l("No"),
    "credit_line": _l("Credit line"), "due_today": _l("Due today"), "debit_failed": _l("Debit failed"),
    # automatic debits, identity checks, required documents and credit-line drawdowns
    "skip": _l("Skip the attempt"), "stop": _l("Stop debiting the installment"),
    "apply_to_next": _l("Apply to the next installment"), "refund": _l("Refund to the card"),
    "three_element": _l("Name, ID number and phone match"), "bank_card": _l("Bank card four elements"),
    "liveness": _l("Liveness and face match"), "review": _l("Manual review"), "none": _l("None"),
    "id_card_front": _l("ID card, portrait side"), "id_card_back": _l("ID card, emblem side"),
    "face_photo": _l("Live face photo"), "business_licence": _l("Business licence"),
    "bank_statement": _l("Bank statement"), "proof_of_use": _l("Proof of the use of funds"),
    "chosen_days": _l("Days the borrower chooses"),
    # debit instructions, borrower messages, credit lines and their warnings, provisions
    "created": _l("Created"), "sending": _l("Sending"), "sent": _l("Sent"), "succeeded": _l("Succeeded"),
    "partial": _l("Partly collected"), "failed": _l("Failed"), "skipped": _l("Skipped"), "stopped": _l("Stopped"),
    "frozen": _l("Frozen"), "closed": _l("Closed"), "dismissed": _l("Dismissed"), "handled": _l("Handled"),
    "general": _l("General provision"),
    # product changes under review
    "added": _l("Added"), "removed": _l("Removed"), "changed": _l("Changed"),
    # plugins, their calls and what the audit log records
    "builtin": _l("Built in"), "entrypoint": _l("Installed package"), "ok": _l("Succeeded"),
    "error": _l("Failed"), "timeout": _l("Timed out"), "refused": _l("Refused"),
    "application": _l("Application"), "loan": _l("Loan"), "product_version": _l("Product version"),
    "user": _l("User"), "customer": _l("Customer"), "change_request": _l("Change request"),
    "approval_task": _l("Approval task"),
    # journal entries
    "eod_accrual": _l("Daily interest accrual"), "eod_penalty": _l("Daily penalty"),
    "eod_fee": _l("Installment fee due"), "suspense_applied": _l("Overpayment applied"),
    "prepayment_fee": _l("Prepayment fee"), "prepayment_accrual": _l("Interest to the prepayment date"),
    # servicing actions taken in the admin
    "loan.repay_offline": _l("offline repayment"), "loan.prepay": _l("prepayment"),
}


#: the facts the eligibility rules and approval conditions read (core.origination.pipeline), and the
#: members of an application's collateral -> English label
FACT_LABELS = {
    "amount": _l("Amount asked"), "term": _l("Term"), "method": _l("Repayment method"), "age": _l("Age"),
    "dti": _l("Debt-to-income ratio"), "monthly_income": _l("Monthly income"), "region": _l("Region code"),
    "customer_type": _l("Customer type"), "channel": _l("Channel"), "collateral_type": _l("Collateral type"),
    "collateral_value": _l("Collateral value"), "ltv": _l("Loan-to-value ratio"),
    "existing_loans": _l("Loans held"), "outstanding": _l("Outstanding principal held"),
    "bureau_inquiries_3m": _l("Bureau inquiries in 3 months"), "bureau_overdue": _l("Overdue at the bureau"),
    "blacklisted": _l("On a blacklist"), "score": _l("Score"), "grade": _l("Grade"),
    "type": _l("Collateral type"), "value": _l("Appraised value"), "description": _l("Description"),
    "reference": _l("Reference"), "owner": _l("Owner"),
}
#: facts that are fractions, shown as percentages
FRACTION_FACTS = frozenset({"dti", "ltv"})
#: facts whose value is an identifier, shown as it is (as code)
LITERAL_FACTS = frozenset({"channel", "region", "reference"})


def fact_rows(facts: object) -> list[tuple[str, str, bool]]:
    """A mapping of facts (a decision's context, an application's collateral) as ``(label, value, literal)``
    rows in the user's language: codes in words, ratios as percentages, identifiers (``literal``) as they
    are; a member without a label keeps its name."""
    if not isinstance(facts, dict):
        return []
    rows = []
    for name, value in facts.items():
        label = FACT_LABELS.get(name)
        if name in FRACTION_FACTS:
            shown = percent_label(value)
        elif isinstance(value, bool):
            shown = code_label("true" if value else "false")
        elif isinstance(value, (dict, list)):
            shown = "；".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else "、".join(
                map(str, value))
        else:
            shown = code_label(value) if isinstance(value, str) else str(value)
        rows.append((str(label) if label is not None else name, shown, name in LITERAL_FACTS))
    return rows


def code_label(code: object) -> str:
    """The label of ``code`` in the user's language, or the code itself when it has none."""
    label = CODE_LABELS.get(str(code)) if isinstance(code, str) else None
    return str(label) if label is not None else ("" if code is None else str(code))


def role_label(code: str) -> str:
    """A role's name in the user's language."""
    return code_label(code)


def roles_label(codes: str) -> str:
    """A comma-separated list of role codes as names (``User.role_names``)."""
    return "、".join(code_label(code) for code in codes.split(",") if code) if _zh() else ", ".join(
        code_label(code) for code in codes.split(",") if code)


def account_label(code: str) -> str:
    """``1303 贷款本金``: a ledger account with its name from the chart (cash clearing per channel)."""
    account = CHART.get(code)
    if account is not None:
        return f"{code} {account.name_zh if _zh() else account.name_en}"
    if code.startswith(CASH_CLEARING_PREFIX + "."):
        return f"{code} {_l('Cash clearing')}"
    return code


#: the sentences the kernel writes as a state change's reason, by pattern -> English template
REASONS = (
    (re.compile(r"^disbursed on (\d{4}-\d{2}-\d{2})$"), _l("disbursed on %(date)s")),
    (re.compile(r"^prepaid in full on (\d{4}-\d{2}-\d{2})$"), _l("prepaid in full on %(date)s")),
)


def reason_label(reason: str) -> str:
    """A state change's recorded reason in the user's language: a code (``approved``) or one of the kernel's
    sentences (:data:`REASONS`); a person's own words are shown as written."""
    if reason in CODE_LABELS:
        return code_label(reason)
    for pattern, template in REASONS:
        match = pattern.match(reason)
        if match:
            return str(template) % {"date": match.group(1)}
    return reason


def subject_label(subject: str) -> str:
    """``application:12`` (what a plugin call was about) as ``申请 #12``."""
    kind, colon, ident = subject.partition(":")
    return f"{code_label(kind)} #{ident}" if colon else code_label(subject)


#: the zone every time on the admin's screens is shown in (the lender's, China Standard Time)
SHOWN_ZONE = ZoneInfo("Asia/Shanghai")


def moment_label(moment: datetime | None, seconds: bool = False) -> str:
    """A stored moment in Beijing time, saying so (``2026-03-01 09:30 北京时间``). A moment without a zone is
    UTC (SQLite gives back the UTC clock it was stored with); PostgreSQL's carry their offset."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    shown = aware.astimezone(SHOWN_ZONE).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {_l('Beijing time')}"


def percent_label(fraction: object) -> str:
    """A fraction (``0.182249``, as a number or its text) as a percentage with its unit: ``18.2249%``."""
    if fraction is None or fraction == "":
        return ""
    try:
        value = Decimal(str(fraction)).scaleb(2)
    except InvalidOperation:
        return str(fraction)
    shown = format(value.normalize(), "f") if value.is_finite() else str(fraction)
    return f"{shown}%"


def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


def _per_request(function: Callable[[str], str]) -> Callable[..., str]:
    """``function`` as a filter Jinja cannot fold into a constant when it compiles a template (a filter of
    a literal is otherwise evaluated once, in the language of whoever rendered first)."""
    @pass_context
    def filter_(_context: Any, value: Any) -> str:
        return function(value)
    return filter_


def init_app(app: Flask) -> None:
    """The template filters ``lf_label``, ``lf_roles`` and ``lf_account``."""
    app.jinja_env.filters["lf_label"] = _per_request(code_label)
    app.jinja_env.filters["lf_roles"] = _per_request(roles_label)
    app.jinja_env.filters["lf_account"] = _per_request(account_label)
    app.jinja_env.filters["lf_reason"] = _per_request(reason_label)
    app.jinja_env.filters["lf_subject"] = _per_request(subject_label)
    app.jinja_env.filters["lf_percent"] = percent_label
    app.jinja_env.filters["lf_facts"] = _per_request(fact_rows)  # type: ignore[arg-type]

    @pass_context
    def moment(_context: Any, value: datetime | None, seconds: bool = False) -> str:
        return moment_label(value, seconds)
    app.jinja_env.filters["lf_time"] = moment
