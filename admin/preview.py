"""The product editor's live preview: validation, a sample schedule, its APR and the cap proof.

The preview prices the loan a customer is offered by default (the default amount, term, method and rate,
disbursed today) with :meth:`core.products.Product.schedule` and :func:`core.schedule.apr.schedule_apr`, and runs
the full validation of :func:`core.products.check_product`, whose APR cap proof prices every allowed
combination. Problems come back with their JSON pointers so the editor can place them at their fields.
Rates are shown as percentages with their unit. Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from admin.labels import code_label, percent_label
from core.errors import LoanFactoryError
from core.products import Product, check_product
from core.products.problems import Problem
from core.products.proof import AprProof
from core.schedule.apr import schedule_apr
from loanfactory import clock


def _text(problem: Problem, locale: str) -> str:
    return problem.message_zh if locale.startswith("zh") else problem.message_en


def problems_by_pointer(problems: list[Problem], locale: str) -> dict[str, list[str]]:
    """Messages in the user's language, grouped by the JSON pointer they belong to."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.pointer, []).append(_text(problem, locale))
    return grouped


def preview(document: Any, *, locale: str, plugins: Mapping[str, Collection[str]] | None,
            start: date | None = None) -> dict[str, Any]:
    """Everything the editor shows beside the form, as JSON-ready data (amounts as exact strings)."""
    report = check_product(document, plugins=plugins)
    problems = [*report.problems, *cap_drivers(document, report.proof)]
    result: dict[str, Any] = {
        "ok": report.ok,
        "problems": [{"pointer": p.pointer, "code": p.code, "message": _text(p, locale)} for p in problems],
        "schedule": None,
        "proof": report.proof.as_dict() if report.proof else None,
    }
    if report.proof:
        worst = report.proof.worst
        result["proof"]["shown"] = {"apr": percent_label(worst.apr), "cap": percent_label(report.proof.cap),
                                    "allowance": percent_label(worst.allowance)}
    if not report.ok and not _schedule_sections_sound(report.problems):
        return result
    try:
        product = Product(document)
        method = product.default_method
        schedule = product.schedule(product.amount.default, product.term_default, method, start or clock.today())
        apr = schedule_apr(schedule)
    except (LoanFactoryError, KeyError, TypeError, ValueError, ArithmeticError) as error:
        result["schedule_error"] = str(error)
        return result
    result["schedule"] = {
        "amount": format(schedule.terms.principal, "f"),
        "term": product.term_default,
        "method": code_label(method.value),
        "annual_rate": percent_label(schedule.terms.annual_rate),
        "apr": percent_label(apr.apr),
        "effective_annual_rate": percent_label(apr.effective_annual_rate),
        "upfront_fee": format(schedule.terms.upfront_fee, "f"),
        "rows": [{"period": row.period, "due_date": row.due_date.isoformat(), "principal": format(row.principal, "f"),
                  "interest": format(row.interest, "f"), "fee": format(row.fee, "f"), "total": format(row.total, "f"),
                  "remaining": format(row.remaining_principal, "f")} for row in schedule.installments],
    }
    return result


SCHEDULE_SECTIONS = ("/amount", "/term", "/rate", "/repayment", "/fees", "/day_count")
#: fees that enter the APR's cash flows
PRICED_FEES = ("upfront", "per_installment")


def cap_drivers(document: Any, proof: AprProof | None) -> list[Problem]:
    """When the APR cap proof fails, a problem at every field whose range drives the worst case: the rate
    bound (or risk band) it was priced at, the priced fees, and the term and amount bounds it used. The
    cap's own problem stays where the kernel puts it; these point the user at what to change."""
    if proof is None or proof.passed or not isinstance(document, Mapping):
        return []
    worst = proof.worst
    found: list[str] = []
    rate = _part(document, "rate")
    annual = _part(rate, "annual")
    found += [f"/rate/annual/{k}" for k in ("max", "default") if _equal(annual.get(k), worst.annual_rate)][:1]
    for index, band in enumerate(rate.get("risk_bands") or []):
        if isinstance(band, Mapping) and _equal(band.get("annual_rate"), worst.annual_rate):
            found.append(f"/rate/risk_bands/{index}/annual_rate")
    for index, fee in enumerate(document.get("fees") or []):
        if isinstance(fee, Mapping) and fee.get("when") in PRICED_FEES:
            found.append(f"/fees/{index}/value")
    term = _part(document, "term")
    if "values" in term:
        found.append("/term/values")
    found += [f"/term/{k}" for k in ("min", "max") if _equal(term.get(k), worst.term)]
    amount = _part(document, "amount")
    found += [f"/amount/{k}" for k in ("min", "max") if _equal(amount.get(k), worst.amount)]
    zh = (f"此项决定了最坏情况年化利率 {percent_label(worst.bound)}（上限 {percent_label(proof.cap)}）："
          "调整此项使其不超过上限")
    en = (f"this drives the worst-case APR {percent_label(worst.bound)} (cap {percent_label(proof.cap)}): "
          "change it to bring the APR under the cap")
    return [Problem(pointer, "apr.cap_driver", zh, en) for pointer in found]


def _part(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    part = document.get(key)
    return part if isinstance(part, Mapping) else {}


def _equal(value: Any, number: Decimal | int) -> bool:
    try:
        return Decimal(str(value)) == Decimal(number)
    except (InvalidOperation, ValueError):
        return False


def _schedule_sections_sound(problems: list[Problem]) -> bool:
    """Whether the sections a schedule is built from are free of problems."""
    return not any(p.pointer.startswith(SCHEDULE_SECTIONS) or p.pointer == "" for p in problems)
