"""Validating a product definition: schema, then semantic checks, then the APR cap proof.

:func:`check_product` runs the three stages and returns a :class:`Report` with every problem found and,
when the document got that far, the APR proof. The stages are ordered because each needs the previous
one's guarantees: a semantic check of a section runs only when that section passed the schema, and the
proof runs only on a product without any problem (it prices real schedules). :func:`validate_product`
returns just the problems; :func:`load_product` returns a :class:`~core.products.product.Product` or
raises :class:`InvalidProductError` carrying them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import AprNotConvergedError, InvalidArgumentError, LoanFactoryError
from core.products.credit_line import check_credit_line, is_credit_line, prove_drawdowns
from core.products.problems import Problem, exact_numbers, load_json, schema_problems, sort_problems
from core.products.product import Product
from core.products.proof import AprProof, prove_apr_cap
from core.products.references import (
    DEFAULT_ROLES,
    check_approval,
    check_eligibility_rules,
    check_gl_accounts,
    check_identity_plugin,
    check_notifications,
    check_plugins,
)
from core.products.semantic import NUMBER_CHECKS, check_terms_per_method

PluginRegistry = Mapping[str, Collection[str]]

OPTIONAL_SECTIONS = frozenset({"collateral", "description", "kind", "credit_line", "debit"})


class InvalidProductError(LoanFactoryError):
    """A product definition has problems; ``problems`` lists every one with its JSON pointer."""

    def __init__(self, problems: list[Problem], source: str = "product") -> None:
        summary = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{source}: {len(problems)} problem(s): {summary}{more}", field=source)
        self.problems = problems


@dataclass(frozen=True)
class Report:
    """Every problem of a product definition, and its APR proof when the proof ran."""

    problems: list[Problem]
    proof: AprProof | None

    @property
    def ok(self) -> bool:
        return not self.problems


def _broken_sections(problems: list[Problem]) -> set[str]:
    return {p.pointer.split("/")[1] if p.pointer.count("/") else "" for p in problems}


def check_product(document: object, *, roles: Collection[str] = DEFAULT_ROLES, plugins: PluginRegistry | None = None,
                  chart: Collection[str] | None = None, prove: bool = True) -> Report:
    """Validate ``document`` in three stages and return every problem plus the proof.

    Args:
        document: the product as parsed JSON; floats are read as the decimal they print as.
        roles: the roles manual approval steps may name.
        plugins: plugin name -> hook names it implements; ``None`` skips the plugin check.
        chart: the GL account codes that exist; ``None`` skips the chart check.
        prove: run the APR cap proof when nothing else is wrong.
    """
    document = exact_numbers(document)
    problems = schema_problems(document)
    if not isinstance(document, Mapping):
        return Report(problems, None)
    broken = _broken_sections(problems)

    def usable(*sections: str) -> bool:
        return all(s not in broken and (s in document or s in OPTIONAL_SECTIONS) for s in sections)

    for check, sections in NUMBER_CHECKS:
        if usable(*sections):
            problems += list(check(document))
    if usable("eligibility"):
        problems += list(check_eligibility_rules(document))
    if usable("approval"):
        problems += list(check_approval(document, roles))
    if usable("plugins") and plugins is not None:
        problems += list(check_plugins(document, plugins))
    if usable("plugins", "identity_checks"):
        problems += list(check_identity_plugin(document))
    if usable("gl_accounts", "fees"):
        problems += list(check_gl_accounts(document, chart))
    if usable("notifications"):
        problems += list(check_notifications(document))
    if usable("kind", "credit_line", "amount", "credit_limits"):
        problems += list(check_credit_line(document))
    schedule_sections = ("amount", "term", "rate", "repayment", "fees", "day_count")
    if usable(*schedule_sections) and not _broken_sections(problems) & set(schedule_sections):
        problems += list(check_terms_per_method(document))
    problems = sort_problems(problems)
    if problems or not prove:
        return Report(problems, None)
    return _prove(document)


def _prove(document: Mapping[str, Any]) -> Report:
    try:
        product = Product(document)
        proof = prove_drawdowns(product) if is_credit_line(document) else prove_apr_cap(product)
    except (AprNotConvergedError, InvalidArgumentError) as error:
        return Report([Problem("", "apr.not_computable", f"无法计算年化利率：{error}",
                               f"the APR of the product cannot be computed: {error}")], None)
    if proof.passed:
        return Report([], proof)
    worst = proof.worst
    where = (f"amount {worst.amount}, term {worst.term}, {worst.method.value}, rate {worst.annual_rate}"
             + (f", prepaid at period {worst.prepaid_at_period}" if worst.prepaid_at_period else ""))
    where_zh = (f"金额 {worst.amount}，期限 {worst.term}，{worst.method.value}，利率 {worst.annual_rate}"
                + (f"，第 {worst.prepaid_at_period} 期提前还款" if worst.prepaid_at_period else ""))
    problem = Problem(
        "/compliance/apr_cap/rate", "apr.over_cap",
        f"最坏情况年化利率 {worst.apr}（含舍入余量 {worst.allowance}）超过上限 {proof.cap}：{where_zh}",
        f"the worst-case APR {worst.apr} (plus rounding allowance {worst.allowance}) exceeds the cap "
        f"{proof.cap}: {where}",
    )
    return Report([problem], proof)


def validate_product(document: object, *, roles: Collection[str] = DEFAULT_ROLES,
                     plugins: PluginRegistry | None = None, chart: Collection[str] | None = None,
                     prove: bool = True) -> list[Problem]:
    """Every problem of ``document`` (empty when it is a sound product); see :func:`check_product`."""
    return check_product(document, roles=roles, plugins=plugins, chart=chart, prove=prove).problems


def read_document(path: str | Path) -> Any:
    """Read a product JSON file with exact decimals.

    Raises:
        InvalidProductError: the file is not JSON (reported at the document root, with the position).
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        return load_json(text)
    except ValueError as error:
        raise InvalidProductError([Problem("", "json.syntax", f"不是有效的 JSON：{error}", f"not valid JSON: {error}")],
                                  str(path)) from None


def load_product(source: str | Path | Mapping[str, Any], *, roles: Collection[str] = DEFAULT_ROLES,
                 plugins: PluginRegistry | None = None, chart: Collection[str] | None = None) -> Product:
    """The :class:`Product` defined by a file path or a parsed document, validated in full.

    Raises:
        InvalidProductError: the definition has problems; all of them are attached.
    """
    document = exact_numbers(source) if isinstance(source, Mapping) else read_document(source)
    problems = validate_product(document, roles=roles, plugins=plugins, chart=chart)
    if problems:
        raise InvalidProductError(problems, str(source) if not isinstance(source, Mapping) else "product")
    return Product(document)
