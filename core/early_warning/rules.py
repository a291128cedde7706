"""Early-warning rules (贷中预警规则) as data: a rule set document, read and checked whole.

A rule set is ``{"rules": [...]}``; each rule names a ``code`` (upper case, unique), a ``name`` in Chinese
and English, a ``severity`` (``low``, ``medium``, ``high``), the ``signal`` it watches with that signal's
threshold, and the ``action`` taken when it fires:

============================  ==========================================================================
signal                        fires when
============================  ==========================================================================
``days_past_due``             a loan of the line's customer (any of their loans, a drawdown or not) is at
                              least ``min_days_past_due`` days past due
``utilisation_jump``          drawdowns made in the last ``window_days`` days (not given up) come to at
                              least ``min_share`` of the line's limit
============================  ==========================================================================

Actions: ``flag`` (a warning for an operator to handle, nothing else), ``freeze`` (the line stops drawing),
``reduce_limit`` (the limit becomes ``reduce_to`` times what it is, rounded down to the fen).
:func:`read_rule_set` returns the typed rules or raises :class:`InvalidRulesError` with every problem and its
JSON pointer; rule sets are stored as numbered versions (:mod:`core.early_warning.versions`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import LoanFactoryError
from core.products.problems import Problem, pointer

SIGNALS = {"days_past_due": ("min_days_past_due",), "utilisation_jump": ("window_days", "min_share")}
ACTIONS = {"flag": (), "freeze": (), "reduce_limit": ("reduce_to",)}
SEVERITIES = ("low", "medium", "high")
BASE_FIELDS = ("code", "name", "severity", "signal", "action")
CODE = re.compile(r"[A-Z][A-Z0-9_]{1,39}", re.ASCII)


class InvalidRulesError(LoanFactoryError):
    """A rule set document has problems; ``problems`` lists each with its JSON pointer."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("early-warning rules: " + "; ".join(str(p) for p in problems[:3]), field="rules")
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """One rule: what it watches, its threshold, and what it does."""

    code: str
    name_zh: str
    name_en: str
    severity: str
    signal: str
    action: str
    min_days_past_due: int | None = None
    window_days: int | None = None
    min_share: Decimal | None = None
    reduce_to: Decimal | None = None


def _problem(problems: list[Problem], at: tuple[str | int, ...], code: str, zh: str, en: str) -> None:
    problems.append(Problem(pointer(*at), code, zh, en))


def _whole(value: Any, low: int, high: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else None


def _fraction(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 < number < 1 else None


def _rule(raw: Any, i: int, problems: list[Problem]) -> Rule | None:
    at: tuple[str | int, ...] = ("rules", i)
    if not isinstance(raw, Mapping):
        _problem(problems, at, "rules.not_an_object", "规则须为对象", "each rule is an object")
        return None
    before = len(problems)
    signal, action = raw.get("signal"), raw.get("action")
    allowed = set(BASE_FIELDS) | set(SIGNALS.get(str(signal), ())) | set(ACTIONS.get(str(action), ()))
    for key in sorted(set(raw) - allowed):
        _problem(problems, (*at, key), "rules.unknown_field", f"未知字段 {key}",
                 f"{key} is not a field of a {signal} rule with action {action}")
    for key in BASE_FIELDS:
        if key not in raw:
            _problem(problems, (*at, key), "rules.required", f"缺少 {key}", f"{key} is required")
    if "code" in raw and not (isinstance(raw["code"], str) and CODE.fullmatch(raw["code"])):
        _problem(problems, (*at, "code"), "rules.code", "代码须为 2–40 位大写字母、数字或下划线",
                 "the code is 2-40 upper-case letters, digits or underscores, starting with a letter")
    name = raw.get("name")
    if "name" in raw and not (isinstance(name, Mapping) and all(isinstance(name.get(k), str) and name[k].strip()
                                                                 for k in ("zh", "en"))):
        _problem(problems, (*at, "name"), "rules.name", "名称须有中文和英文", "the name needs zh and en text")
    checks = (("severity", SEVERITIES), ("signal", tuple(SIGNALS)), ("action", tuple(ACTIONS)))
    for key, options in checks:
        if key in raw and raw[key] not in options:
            _problem(problems, (*at, key), "rules.enum", f"{key} 须为 {', '.join(options)} 之一",
                     f"{key} must be one of {', '.join(options)}")
    values = _thresholds(raw, at, problems)
    if len(problems) > before:
        return None
    return Rule(str(raw["code"]), str(raw["name"]["zh"]), str(raw["name"]["en"]), str(raw["severity"]),
                str(signal), str(action), **values)


def _thresholds(raw: Mapping[str, Any], at: tuple[str | int, ...], problems: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    needed = [*SIGNALS.get(str(raw.get("signal")), ()), *ACTIONS.get(str(raw.get("action")), ())]
    for key in needed:
        if key not in raw:
            _problem(problems, (*at, key), "rules.required", f"缺少 {key}", f"{key} is required")
            continue
        if key in ("min_days_past_due", "window_days"):
            value: Any = _whole(raw[key], 1, 3650)
            rule = ("须为 1 到 3650 的整数", "must be a whole number of days from 1 to 3650")
        else:
            value = _fraction(raw[key])
            rule = ("须为 0 与 1 之间的小数（不含两端）", "must be a fraction between 0 and 1 (exclusive)")
        if value is None:
            _problem(problems, (*at, key), "rules.threshold", f"{key} {rule[0]}", f"{key} {rule[1]}")
        else:
            values[key] = value
    return values


def read_rule_set(document: object) -> tuple[Rule, ...]:
    """The rules of a rule set document.

    Raises:
        InvalidRulesError: every problem, each with its pointer (codes must be unique).
    """
    problems: list[Problem] = []
    rules = document.get("rules") if isinstance(document, Mapping) else None
    if not isinstance(rules, list):
        raise InvalidRulesError([Problem(pointer("rules"), "rules.missing", "须列出 rules", "the document needs a "
                                         "rules list")])
    if isinstance(document, Mapping):
        for key in sorted(set(document) - {"rules"}):
            _problem(problems, (key,), "rules.unknown_field", f"未知字段 {key}", f"{key} is not a field")
    read: list[Rule] = []
    for i, raw in enumerate(rules):
        rule = _rule(raw, i, problems)
        if rule is not None:
            if any(r.code == rule.code for r in read):
                _problem(problems, ("rules", i, "code"), "rules.duplicate_code", f"规则代码 {rule.code} 重复",
                         f"the code {rule.code} is used twice")
            read.append(rule)
    if problems:
        raise InvalidRulesError(problems)
    return tuple(read)
