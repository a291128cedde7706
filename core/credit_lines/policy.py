"""Lender-level limit policy as dated configuration: the ceiling on one borrower's total limit and balance.

Regulatory ceilings change by rule and by date (DOMAIN.md: the online microloan balance per consumer
borrower, 小额贷款公司监督管理暂行办法 2025, verify), so they are data, never constants:
``product_configs/policy/lending_caps.json`` lists caps, each with its ``code``, ``amount``, the date it is
``effective_from`` and its ``source``. :func:`read_caps` reads and checks such a document and returns every
problem with its JSON pointer; :func:`cap_on` answers which cap is in force on a day (the entry with the
latest ``effective_from`` not after it; ``None`` before the first). The cap ``per_borrower_balance`` bounds
a customer's total limit when it is set (:mod:`core.credit_lines.lifecycle`) and what they have drawn across
all their lines when they draw (:mod:`core.credit_lines.limits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import InputError, LoanFactoryError
from core.money import parse_money
from core.products.problems import Problem, load_json, pointer

CAPS_PATH = Path(__file__).resolve().parents[2] / "product_configs" / "policy" / "lending_caps.json"
PER_BORROWER_BALANCE = "per_borrower_balance"
KNOWN_CAPS = frozenset({PER_BORROWER_BALANCE})


class InvalidPolicyError(LoanFactoryError):
    """The policy document has problems; ``problems`` lists each with its JSON pointer."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("lending caps: " + "; ".join(str(p) for p in problems), field="caps")
        self.problems = problems


@dataclass(frozen=True, order=True)
class Cap:
    """One dated cap."""

    code: str
    effective_from: date
    amount: Decimal
    source: str


def read_caps(document: object) -> tuple[Cap, ...]:
    """The caps of a parsed policy document, checked whole.

    Raises:
        InvalidPolicyError: every problem found (unknown code, bad amount or date, empty source, duplicate
            code and date), each with its pointer.
    """
    problems: list[Problem] = []
    entries = document.get("caps") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise InvalidPolicyError([Problem(pointer("caps"), "policy.caps_missing", "须列出 caps",
                                          "the document needs a caps list")])
    caps: list[Cap] = []
    for i, entry in enumerate(entries):
        cap = _entry(entry, i, problems)
        if cap is not None:
            if any((c.code, c.effective_from) == (cap.code, cap.effective_from) for c in caps):
                problems.append(Problem(pointer("caps", i, "effective_from"), "policy.duplicate",
                                        "同一上限同一生效日重复",
                                        f"{cap.code} is given twice from {cap.effective_from}"))
            caps.append(cap)
    if problems:
        raise InvalidPolicyError(problems)
    return tuple(sorted(caps))


def _entry(entry: Any, i: int, problems: list[Problem]) -> Cap | None:
    if not isinstance(entry, Mapping):
        problems.append(Problem(pointer("caps", i), "policy.not_an_object", "须为对象", "each cap is an object"))
        return None
    before = len(problems)
    code = entry.get("code")
    if code not in KNOWN_CAPS:
        problems.append(Problem(pointer("caps", i, "code"), "policy.unknown_code", f"未知的上限 {code}",
                                f"unknown cap {code!r} (known: {', '.join(sorted(KNOWN_CAPS))})"))
    amount = Decimal(0)
    try:
        amount = parse_money(entry.get("amount"), "amount", positive=True)
    except InputError as error:
        problems.append(Problem(pointer("caps", i, "amount"), "policy.amount", "金额无效", error.reason))
    try:
        start = date.fromisoformat(str(entry.get("effective_from")))
    except ValueError:
        problems.append(Problem(pointer("caps", i, "effective_from"), "policy.date", "须为 YYYY-MM-DD 日期",
                                "effective_from must be a date YYYY-MM-DD"))
        start = date.min
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(Problem(pointer("caps", i, "source"), "policy.source", "须注明依据",
                                "every cap names the rule or decision it comes from"))
    if len(problems) > before:
        return None
    return Cap(str(code), start, amount, str(source))


@lru_cache(maxsize=1)
def shipped_caps() -> tuple[Cap, ...]:
    """The caps of the shipped policy file, read once."""
    return read_caps(load_json(CAPS_PATH.read_text(encoding="utf-8")))


def cap_on(code: str, day: date, caps: tuple[Cap, ...] | None = None) -> Cap | None:
    """The cap ``code`` in force on ``day`` (of ``caps``, the shipped ones by default), or ``None``."""
    in_force = [c for c in (shipped_caps() if caps is None else caps) if c.code == code and c.effective_from <= day]
    return max(in_force, default=None, key=lambda c: c.effective_from)
