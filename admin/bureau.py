"""The credit report on screen: whole, with the sensitive parts masked unless revealed (audited).

A reviewer sees the report the scorecard saw (:func:`core.origination.bureau_reports.bureau_report_for`):
every account with its 24-month repayment grid, the inquiries, court records and blacklist hits. Account
numbers and amounts (credit line, balance, overdue, court amounts) are sensitive financial information
(PIPL Art. 28, JR/T 0171-2020 C2): :func:`report_view` masks them (account ``****3345``, amounts ``***``)
unless ``clear``; :func:`reveal_report` is the audited way to ``clear`` (who, which report, why).
Court case numbers keep their year and court and hide the serial number.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from core.backoffice import audit
from core.plugins.types import BureauReport

HIDDEN = "***"
#: grid symbols of a month that went wrong (overdue bands, abnormal end, guarantor, assets, bad debt)
BAD_SYMBOLS = frozenset("1234567GDZB")
ACCOUNT_STATUS = {"1": _l("normal"), "2": _l("overdue"), "3": _l("closed"), "4": _l("bad debt")}
INQUIRY_REASONS = {"01": _l("post-loan management"), "02": _l("loan approval"), "03": _l("credit card approval")}


def mask_account_number(value: str) -> str:
    """Keep the last 4 characters: ``6222020200112233445`` -> ``***************3445``."""
    return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)


def mask_case_number(value: str) -> str:
    """Keep the year and court, hide the serial: ``(2024)京0105执1234号`` -> ``(2024)京0105执****号``."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    tail: list[int] = []
    for index in reversed(digits):
        if tail and index != tail[-1] - 1:
            break
        tail.append(index)
    hidden = set(tail) if len(tail) < len(digits) else set(digits[len(digits) // 2:])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _amount(value: Decimal, clear: bool) -> str:
    return f"{value:,.2f}" if clear else HIDDEN


def report_view(report: BureauReport, *, clear: bool = False) -> dict[str, Any]:
    """The report as the inbox shows it: every section, sensitive parts masked unless ``clear``."""
    accounts = [{
        "account_id": a.account_id if clear else mask_account_number(a.account_id),
        "lender": a.lender, "lender_type": a.lender_type, "account_type": a.account_type,
        "opened_on": a.opened_on.isoformat(), "closed_on": a.closed_on.isoformat() if a.closed_on else "",
        "credit_amount": _amount(a.credit_amount, clear), "balance": _amount(a.balance, clear),
        "overdue_amount": _amount(a.overdue_amount, clear), "status": a.status,
        "status_name": ACCOUNT_STATUS.get(a.status, a.status),
        "grid": [(symbol, symbol in BAD_SYMBOLS) for symbol in a.grid],
    } for a in report.accounts]
    courts = [{**dataclasses.asdict(c), "filed_on": c.filed_on.isoformat(), "amount": _amount(c.amount, clear),
               "case_number": c.case_number if clear else mask_case_number(c.case_number)}
              for c in report.court_records]
    return {
        "report_id": report.report_id, "bureau": report.bureau, "as_of": report.as_of.isoformat(),
        "clear": clear, "accounts": accounts,
        "inquiries": [{"queried_on": q.queried_on.isoformat(), "institution": q.institution, "reason": q.reason,
                       "reason_name": INQUIRY_REASONS.get(q.reason, q.reason)} for q in report.inquiries],
        "court_records": courts,
        "blacklist": [{"source": b.source, "listed_on": b.listed_on.isoformat(), "reason": b.reason}
                      for b in report.blacklist],
        "summary": {"open_accounts": len(report.open_accounts), "inquiries_3m": report.inquiries_within(3),
                    "current_overdue": _amount(report.current_overdue, clear),
                    "worst_status": report.worst_status},
    }


def reveal_report(session: Session, report: BureauReport, *, actor: str, reason: str,
                  application_id: int) -> dict[str, Any]:
    """The report in clear, with a ``bureau_report.reveal`` audit event (who, which report, why)."""
    audit.record(session, actor=actor, action="bureau_report.reveal", entity_type="application",
                 entity_id=application_id, after={"report_id": report.report_id, "bureau": report.bureau,
                                                  "fields": ["account_id", "amounts", "case_number"]},
                 comment=reason)
    return report_view(report, clear=True)
