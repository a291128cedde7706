"""The product editor's live preview: validation, a sample schedule, its APR and the cap proof.

The preview prices the loan a customer is offered by default (the default amount, term, method and rate,
disbursed today) with :meth:`core.products.Product.schedule` and :func:`core.schedule.apr.schedule_apr`, and runs
the full validation of :func:`core.products.check_product`, whose APR cap proof prices every allowed
combination. Problems come back with their JSON pointers so the editor can place them at their fields.
Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from core.errors import LoanFactoryError
from core.products import Product, check_product
from core.products.problems import Problem
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
    result: dict[str, Any] = {
        "ok": report.ok,
        "problems": [{"pointer": p.pointer, "code": p.code, "message": _text(p, locale)} for p in report.problems],
        "schedule": None,
        "proof": report.proof.as_dict() if report.proof else None,
    }
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
        "method": method.value,
        "annual_rate": format(schedule.terms.annual_rate, "f"),
        "apr": format(apr.apr, "f"),
        "effective_annual_rate": format(apr.effective_annual_rate, "f"),
        "upfront_fee": format(schedule.terms.upfront_fee, "f"),
        "rows": [{"period": row.period, "due_date": row.due_date.isoformat(), "principal": format(row.principal, "f"),
                  "interest": format(row.interest, "f"), "fee": format(row.fee, "f"), "total": format(row.total, "f"),
                  "remaining": format(row.remaining_principal, "f")} for row in schedule.installments],
    }
    return result


SCHEDULE_SECTIONS = ("/amount", "/term", "/rate", "/repayment", "/fees", "/day_count")


def _schedule_sections_sound(problems: list[Problem]) -> bool:
    """Whether the sections a schedule is built from are free of problems."""
    return not any(p.pointer.startswith(SCHEDULE_SECTIONS) or p.pointer == "" for p in problems)
