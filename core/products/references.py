"""Checks of what a product refers to outside itself: conditions, roles, plugins, accounts, templates.

Conditions are compiled with :mod:`core.products.expressions` and a faulty one is reported at its own
JSON pointer with the character offset in the message. Roles are checked against a role list, plugins
against a registry (plugin name -> the hook names it implements) and the hooks each job needs, GL account
codes against a chart of accounts when one is given. The lists are arguments, so the validator does not
depend on who builds them (the plugin manager, the ledger's chart, the user store).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Protocol

from core.plugins.hookspecs import HOOK_FAMILIES
from core.products.expressions import ExpressionError, compile_condition
from core.products.problems import Problem, pointer

Document = Mapping[str, Any]

#: the roles of the admin (issue 7); approval steps may name only these unless told otherwise
DEFAULT_ROLES = ("admin", "product_manager", "risk_officer", "risk_manager", "finance", "operations", "auditor")

#: product job (key of ``plugins``) -> the hook family of core/plugins/hookspecs.py a plugin doing it implements
JOB_FAMILIES = {
    "scoring": "scoring",
    "credit_bureau": "bureau",
    "payment_channel": "payment",
    "esign": "esign",
    "reports": "reporting",
    "notifications": "notifications",
    "identity": "identity",
}

#: product job -> the hooks a plugin doing that job must implement
REQUIRED_HOOKS: dict[str, frozenset[str]] = {
    job: frozenset(HOOK_FAMILIES[family]) for job, family in JOB_FAMILIES.items()
}


class PluginDirectory(Protocol):
    """What the validator needs of a plugin manager (:class:`core.plugins.manager.PluginManager`)."""

    def names(self) -> list[str]: ...

    def hooks_of(self, name: str) -> tuple[str, ...]: ...


def plugin_registry(manager: PluginDirectory) -> dict[str, frozenset[str]]:
    """Plugin name -> the hooks it implements, for every plugin the manager has loaded."""
    return {name: frozenset(manager.hooks_of(name)) for name in manager.names()}


#: template variables each notification may use
TEMPLATE_VARIABLES = frozenset({
    "name", "product", "amount", "term", "annual_rate", "apr", "due_date", "due_amount", "installment",
    "paid_amount", "outstanding", "days_past_due", "penalty", "application_id", "loan_id", "reason",
    "contract_no", "disbursed_on",
})

_FIELDS_BY_KIND = {
    "automatic": {"condition", "outcome", "reason_code"},
    "manual": {"role", "when", "four_eyes_when", "sla_hours"},
}


def condition_problems(text: str, at: str) -> list[Problem]:
    """The problem with condition ``text`` (at pointer ``at``), or nothing when it compiles."""
    try:
        compile_condition(text)
    except ExpressionError as error:
        return [Problem(at, error.code, f"条件表达式错误（第 {error.offset} 个字符）：{error.reason}",
                        f"bad condition at character {error.offset}: {error.reason}")]
    return []


def check_eligibility_rules(document: Document) -> Iterator[Problem]:
    codes: set[str] = set()
    for i, rule in enumerate(document["eligibility"].get("rules", [])):
        yield from condition_problems(rule["condition"], pointer("eligibility", "rules", i, "condition"))
        if rule["code"] in codes:
            yield Problem(pointer("eligibility", "rules", i, "code"), "eligibility.duplicate_code",
                          f"规则代码 {rule['code']} 重复", f"rule code {rule['code']!r} is used twice")
        codes.add(rule["code"])


def check_approval(document: Document, roles: Collection[str]) -> Iterator[Problem]:
    for i, step in enumerate(document["approval"]):
        kind = step["kind"]
        other = "manual" if kind == "automatic" else "automatic"
        for name in sorted(_FIELDS_BY_KIND[other] & step.keys()):
            yield Problem(pointer("approval", i, name), "approval.field_not_for_kind",
                          f"{kind} 步骤不应设置 {name}", f"{name} belongs to {other} steps, not {kind} ones")
        needed = ("condition", "outcome") if kind == "automatic" else ("role", "sla_hours")
        for name in needed:
            if name not in step:
                yield Problem(pointer("approval", i, name), "approval.field_missing", f"{kind} 步骤须设置 {name}",
                              f"a {kind} step needs {name}")
        for name in ("condition", "when", "four_eyes_when"):
            if name in step:
                yield from condition_problems(step[name], pointer("approval", i, name))
        if kind == "manual" and "role" in step and step["role"] not in roles:
            yield Problem(pointer("approval", i, "role"), "approval.unknown_role", f"角色 {step['role']} 不存在",
                          f"role {step['role']!r} does not exist; known roles: {', '.join(sorted(roles))}")


def check_plugins(document: Document, registry: Mapping[str, Collection[str]]) -> Iterator[Problem]:
    """Each named plugin is registered and implements the hooks its job needs."""
    for job, value in document["plugins"].items():
        names = value if isinstance(value, list) else [value]
        for i, name in enumerate(names):
            at = pointer("plugins", job, i) if isinstance(value, list) else pointer("plugins", job)
            if name not in registry:
                known = ", ".join(sorted(registry)) or "none"
                yield Problem(at, "plugin.unknown", f"插件 {name} 未注册",
                              f"no plugin named {name!r} is registered (registered: {known})")
                continue
            missing = sorted(REQUIRED_HOOKS.get(job, frozenset()) - set(registry[name]))
            if missing:
                yield Problem(at, "plugin.missing_hook", f"插件 {name} 未实现 {job} 所需的钩子：{', '.join(missing)}",
                              f"plugin {name!r} does not implement the {job} hooks {', '.join(missing)}")


def check_identity_plugin(document: Document) -> Iterator[Problem]:
    """A product that requires identity checks names the plugin that answers them (``plugins.identity``)."""
    required = (document.get("identity_checks") or {}).get("required") or []
    if required and not document["plugins"].get("identity"):
        yield Problem(pointer("plugins", "identity"), "plugin.required", "要求实名认证的产品须指定实名认证插件",
                      f"the product requires identity checks ({', '.join(required)}): name the plugin that "
                      "answers them")


def check_gl_accounts(document: Document, chart: Collection[str] | None) -> Iterator[Problem]:
    """Every account role the product posts to is mapped (and in the chart, when one is given)."""
    accounts = document["gl_accounts"]
    needed = ["penalty_receivable", "penalty_income"]
    if document["fees"]:
        needed += ["fee_receivable", "fee_income"]
    for role in needed:
        if role not in accounts:
            yield Problem(pointer("gl_accounts", role), "gl.unmapped", f"会计科目 {role} 未配置",
                          f"the GL account {role} is not mapped")
    if chart is not None:
        for role, code in accounts.items():
            if code not in chart:
                yield Problem(pointer("gl_accounts", role), "gl.unknown_account", f"科目代码 {code} 不在科目表中",
                              f"account {code} ({role}) is not in the chart of accounts")


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_notifications(document: Document) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, note in enumerate(document["notifications"]):
        if note["event"] in seen:
            yield Problem(pointer("notifications", i, "event"), "notification.duplicate_event",
                          f"事件 {note['event']} 已有模板", f"event {note['event']} already has a template")
        seen.add(note["event"])
        for language in ("zh", "en"):
            text = note["text"][language]
            at = pointer("notifications", i, "text", language)
            if _PLACEHOLDER.sub("", text).count("{") or _PLACEHOLDER.sub("", text).count("}"):
                yield Problem(at, "notification.bad_template", "模板花括号不匹配", "unbalanced braces in the template")
            for name in _PLACEHOLDER.findall(text):
                if name not in TEMPLATE_VARIABLES:
                    yield Problem(at, "notification.unknown_variable", f"模板变量 {{{name}}} 不存在",
                                  f"unknown template variable {{{name}}}")
